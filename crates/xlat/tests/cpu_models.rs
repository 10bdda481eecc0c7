//! `--cpu NAME`: listing the models, refusing unknown names, and an
//! instruction the model does not advertise raising a counted #UD.

mod common;

use common::*;

#[test]
fn cpu_help_lists_the_models() {
    for (cmd, other) in [
        ("run", "--bios=/nonexistent"),
        ("test-roms", "/nonexistent"),
    ] {
        let o = xlat(&[cmd, "--cpu", "help", other]);
        let out = String::from_utf8_lossy(&o.stdout).to_string();
        assert_eq!(status(&o), 0, "{cmd}: {}", stderr(&o));
        let names: Vec<&str> = out
            .lines()
            .filter_map(|l| l.split_whitespace().next())
            .collect();
        assert_eq!(names, ["xlat", "qemu64"], "{out}");
        assert!(out.contains("QEMU 7.2"), "{out}");
    }
    // `xlat run --cpu help` needs no BIOS; any other model does.
    let o = xlat(&["run", "--cpu", "help"]);
    assert_eq!(status(&o), 0, "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("xlat "));
    let o = xlat(&["run", "--cpu", "qemu64"]);
    assert_eq!(status(&o), 2);
    assert!(
        stderr(&o).contains("--bios FILE or --kernel FILE is required"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn unknown_model_is_a_usage_error() {
    let o = xlat(&["run", "--bios", "/nonexistent", "--cpu", "pentium"]);
    assert_eq!(status(&o), 2);
    assert!(
        stderr(&o).contains("unknown CPU model \"pentium\""),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("xlat, qemu64"), "{}", stderr(&o));
}

/// POPCNT, then HLT; #UD (vector 6) goes to a HLT at F000:0040.
fn popcnt_rom() -> std::path::PathBuf {
    rom(
        |a| {
            a.xor(ax, ax)?;
            a.mov(ds, ax)?;
            a.mov(word_ptr(0x18), 0x40)?;
            a.mov(word_ptr(0x1a), 0xf000)?;
            a.mov(bx, 0x00ffu32)?;
            a.popcnt(ax, bx)?;
            a.hlt()
        },
        &[(0x40, &[0xf4])],
    )
}

#[test]
fn instructions_outside_the_model_raise_a_counted_ud() {
    let r = popcnt_rom();
    for engine in ["interp", "jit"] {
        let json = tmp(&format!("stats-{engine}.json"));
        let o = run_rom(
            &r,
            &[
                "--engine",
                engine,
                "--cpu",
                "qemu64",
                "--stats",
                "--stats-json",
                json.to_str().unwrap(),
            ],
        );
        let err = stderr(&o);
        assert_eq!(status(&o), 0, "{err}");
        assert!(
            err.contains(
                "1 instruction(s) the CPU model qemu64 does not advertise raised #UD: popcnt"
            ),
            "{err}"
        );
        let j = std::fs::read_to_string(&json).unwrap();
        assert!(j.contains("\"cpu\": \"qemu64\""), "{j}");
        assert!(j.contains("\"popcnt\": 1"), "{j}");
        assert!(j.contains("\"6\": 1"), "{j}");
        // The default model has POPCNT.
        let o = run_rom(&r, &["--engine", engine]);
        assert_eq!(status(&o), 0);
        assert!(!stderr(&o).contains("does not advertise"), "{}", stderr(&o));
    }
}
