//! The PIT against the datasheet's waveforms and the programming Linux and
//! SeaBIOS do. Times are chosen off and on CLK edges on purpose: `t(k)` is
//! the time of edge `k`, so `t(k) - 1` is the last nanosecond before it.

use super::counter::Phase;
use super::*;

/// The time of CLK edge `k`.
fn t(k: u64) -> u64 {
    clock_time(k).unwrap()
}

/// A time between edges `k` and `k + 1` (not on an edge).
fn mid(k: u64) -> u64 {
    t(k) + 300
}

/// Port 0x43.
const CW: u16 = 0x43;

fn status(p: &mut Pit, ch: u16, now: u64) -> u8 {
    p.write(CW, 0xe0 | 2 << ch, now);
    p.read(0x40 + ch, now)
}

/// Latch and read counter `ch`'s 16-bit count (RW = 3).
fn latched(p: &mut Pit, ch: u16, now: u64) -> u16 {
    p.write(CW, (ch as u8) << 6, now);
    let lo = p.read(0x40 + ch, now);
    let hi = p.read(0x40 + ch, now);
    u16::from_le_bytes([lo, hi])
}

/// The OUT changes of channel 0 from `from`, as `next_out0_change` reports
/// them, each checked against `out` on both sides.
fn out0_changes(p: &Pit, from: u64, n: usize) -> Vec<(u64, bool)> {
    let mut v = Vec::new();
    let mut now = from;
    for _ in 0..n {
        let next = p.next_out0_change(now).expect("a periodic mode changes");
        assert!(next > now);
        let level = p.out(0, next);
        assert_eq!(p.out(0, next - 1), !level, "OUT changes at {next}");
        v.push((next, level));
        now = next;
    }
    v
}

#[test]
fn clock_conversion_is_exact() {
    for k in (1..5_000_000u64)
        .step_by(997)
        .chain([PIT_HZ, 10 * PIT_HZ, 1 << 40])
    {
        let tk = t(k);
        assert_eq!(clocks_at(tk), k);
        assert_eq!(clocks_at(tk - 1), k - 1);
    }
    // One second is exactly PIT_HZ edges, an hour 3600 times that.
    assert_eq!(clocks_at(1_000_000_000), PIT_HZ);
    assert_eq!(clocks_at(3_600_000_000_000), 3600 * PIT_HZ);
    assert_eq!(clock_time(u64::MAX), None);
}

#[test]
fn linux_mode2_1khz_no_drift() {
    // arch/x86/kernel/i8253.c: 0x34, then LATCH = (1193182 + 500) / 1000.
    let mut p = Pit::new();
    let w = 5_000_123;
    p.write(CW, 0x34, w);
    p.write(0x40, (1193 & 0xff) as u8, w + 400);
    p.write(0x40, (1193 >> 8) as u8, w + 900);
    let load = clocks_at(w + 900) + 1;
    assert!(p.out(0, w + 900));
    let changes = out0_changes(&p, w + 900, 2 * 5000);
    for (i, pair) in changes.chunks(2).enumerate() {
        let k = load + 1193 * (i as u64 + 1);
        // OUT is low for the one clock the CE holds 1, then the reload.
        assert_eq!(pair[0], (t(k - 1), false), "period {i}");
        assert_eq!(pair[1], (t(k), true), "period {i}");
    }
    // 5000 periods later the rising edge is exactly 5000 * 1193 clocks on.
    let last = changes.last().unwrap().0;
    assert_eq!(clocks_at(last), load + 5000 * 1193);
}

#[test]
fn seabios_mode3_18hz_no_drift() {
    // SeaBIOS pit_setup: counter 0, word access, mode 3, count 0.
    let mut p = Pit::new();
    let w = 77;
    p.write(CW, 0x36, w);
    p.write(0x40, 0, w);
    p.write(0x40, 0, w);
    let load = clocks_at(w) + 1;
    let changes = out0_changes(&p, w, 2 * 300);
    for (i, &(time, level)) in changes.iter().enumerate() {
        assert_eq!(time, t(load + 32768 * (i as u64 + 1)), "half {i}");
        assert_eq!(level, i % 2 == 1);
    }
    // About 18.2 Hz: 300 periods take 16.48 s.
    assert_eq!(changes.last().unwrap().0 / 10_000_000, 1647);
}

#[test]
fn power_on_state_runs_mode3_like_qemu() {
    let mut p = Pit::new();
    assert_eq!(p.next_out0_change(0), Some(t(1 + 32768)));
    // Null count until the first clock loads the count.
    assert_eq!(status(&mut p, 0, 10), 0x80 | 0x40 | 0x36);
    assert_eq!(status(&mut p, 0, t(1)), 0x80 | 0x36);
    // GATE 2 is low: counter 2 holds, OUT 2 high.
    assert_eq!(p.next_out0_change(t(40000)), Some(t(1 + 65536)));
    assert_eq!(p.read(PORT_61, 5) & 0x21, 0x20);
    p.reset(t(100) + 5);
    assert_eq!(p.next_out0_change(t(100) + 5), Some(t(101 + 32768)));
}

#[test]
fn mode0_interrupt_on_terminal_count() {
    // Datasheet figure "Mode 0": CW, count 4 (LSB only): OUT low, high
    // N + 1 clocks after the count is written; a new count restarts it.
    let mut p = Pit::new();
    p.write(CW, 0x10, mid(10));
    assert!(!p.out(0, mid(10)));
    assert_eq!(p.next_out0_change(mid(10)), None);
    p.write(0x40, 4, mid(20));
    assert_eq!(p.next_out0_change(mid(20)), Some(t(25)));
    assert!(!p.out(0, t(25) - 1));
    assert!(p.out(0, t(25)));
    // Reads: 4 after the load edge, then 3, 2, 1, 0, then wrapping.
    for (k, v) in [(21, 4), (22, 3), (24, 1), (25, 0), (26, 0xff), (27, 0xfe)] {
        p.write(CW, 0x00, mid(k));
        assert_eq!(p.read(0x40, mid(k)), v, "edge {k}");
    }
    assert_eq!(p.next_out0_change(mid(30)), None);
    // Writing a count after terminal count sets OUT low and restarts.
    p.write(0x40, 2, mid(40));
    assert!(!p.out(0, mid(40)));
    assert_eq!(p.next_out0_change(mid(40)), Some(t(43)));
    // Two-byte count: the first byte stops counting and sets OUT low.
    p.write(CW, 0x30, mid(50));
    p.write(0x40, 0x00, mid(51));
    p.write(0x40, 0x01, mid(52));
    p.write(0x40, 0x10, mid(100));
    assert!(!p.out(0, mid(110)));
    assert_eq!(p.next_out0_change(mid(110)), None);
    p.write(0x40, 0x00, mid(120));
    assert_eq!(p.next_out0_change(mid(120)), Some(t(121 + 0x10)));
}

#[test]
fn mode0_gate_suspends_counting() {
    // Counter 2 with GATE from port 0x61 bit 0.
    let mut p = Pit::new();
    p.write(PORT_61, 0x01, mid(1));
    p.write(CW, 0x90, mid(1));
    p.write(0x42, 10, mid(10));
    // Loaded at 11; counts 12..=15 (4), then GATE low for edges 16..=20.
    p.write(PORT_61, 0x00, mid(15));
    assert!(!p.out(2, mid(100)));
    p.write(0x40 | 3, 0x80, mid(100)); // latch counter 2
    assert_eq!(p.read(0x42, mid(100)), 6);
    p.write(PORT_61, 0x01, mid(200));
    // 6 more clocks: OUT high at edge 206.
    assert!(!p.out(2, t(206) - 1));
    assert!(p.out(2, t(206)));
    assert_eq!(p.read(PORT_61, t(206)) & 0x20, 0x20);
}

#[test]
fn mode1_hardware_one_shot() {
    // Datasheet figure "Mode 1": OUT goes low on the clock after the GATE
    // rising edge and high N clocks later; a new trigger restarts it.
    let mut p = Pit::new();
    p.write(CW, 0xb2, mid(1)); // counter 2, word, mode 1
    p.write(0x42, 3, mid(2));
    p.write(0x42, 0, mid(3));
    assert!(p.out(2, mid(50)));
    assert_eq!(
        status(&mut p, 2, mid(50)) & 0xc0,
        0xc0,
        "OUT high, null count"
    );
    p.write(PORT_61, 1, mid(60));
    assert!(p.out(2, t(61) - 1));
    assert!(!p.out(2, t(61)));
    assert!(p.out(2, t(64)));
    assert!(!p.out(2, t(64) - 1));
    assert_eq!(status(&mut p, 2, mid(64)) & 0xc0, 0x80);
    // GATE level does not matter; a new rising edge retriggers, also while
    // OUT is still low.
    p.write(PORT_61, 0, mid(70));
    p.write(PORT_61, 1, mid(71));
    p.write(PORT_61, 0, mid(73));
    p.write(PORT_61, 1, mid(73) + 1);
    assert!(!p.out(2, t(76) - 1));
    assert!(p.out(2, t(77)));
    // A new count does not change the running one-shot.
    p.write(PORT_61, 0, mid(90));
    p.write(PORT_61, 1, mid(91));
    p.write(0x42, 10, mid(92));
    p.write(0x42, 0, mid(92));
    assert!(p.out(2, t(95)));
    // ... but the next trigger uses it.
    p.write(PORT_61, 0, mid(100));
    p.write(PORT_61, 1, mid(101));
    assert!(!p.out(2, t(111) - 1));
    assert!(p.out(2, t(112)));
}

#[test]
fn mode2_gate_and_new_count() {
    let mut p = Pit::new();
    p.write(PORT_61, 1, 0);
    p.write(CW, 0x94, mid(1)); // counter 2, LSB, mode 2
    p.write(0x42, 5, mid(1));
    // Loaded at 2: low at 6, high at 7, low at 11, high at 12.
    assert!(p.out(2, t(6) - 1));
    assert!(!p.out(2, t(6)));
    assert!(p.out(2, t(7)));
    assert!(!p.out(2, t(11)));
    // New count mid-period: the current period ends as before.
    p.write(0x42, 3, mid(13));
    assert_eq!(status(&mut p, 2, mid(13)) & 0x40, 0x40);
    assert!(!p.out(2, t(16)));
    assert!(p.out(2, t(17)));
    assert_eq!(status(&mut p, 2, mid(17)) & 0x40, 0);
    assert!(!p.out(2, t(19)));
    assert!(p.out(2, t(20)));
    // GATE low forces OUT high at once and holds the count.
    p.write(PORT_61, 0, t(19) + 1);
    assert!(p.out(2, t(19) + 1));
    assert!(p.out(2, t(50)));
    // GATE rising reloads on the next clock.
    p.write(PORT_61, 1, mid(60));
    assert!(!p.out(2, t(63)));
    assert!(p.out(2, t(64)));
    // Counts read back: 3 after the reload, then 2, 1.
    p.write(CW, 0x80, mid(64));
    assert_eq!(p.read(0x42, mid(64)), 3);
}

#[test]
fn mode3_square_wave_odd_and_even() {
    let mut p = Pit::new();
    // Odd count 5: high 3 clocks, low 2 (datasheet, mode 3).
    p.write(CW, 0x16, mid(1));
    p.write(0x40, 5, mid(1));
    let ch: Vec<_> = out0_changes(&p, mid(1), 6).iter().map(|c| c.0).collect();
    assert_eq!(ch, [5, 7, 10, 12, 15, 17].map(t));
    // The CE counts by two: 5, 4, 2 high; 5, 2 low.
    let reads: Vec<u8> = (2..=6)
        .map(|k| {
            p.write(CW, 0x00, mid(k));
            p.read(0x40, mid(k))
        })
        .collect();
    assert_eq!(reads, [5, 4, 2, 5, 2]);
    // Even count 6: 3 and 3; a new count waits for the end of the half.
    p.write(CW, 0x16, mid(20));
    p.write(0x40, 6, mid(20));
    assert!(!p.out(0, t(24)));
    p.write(0x40, 10, mid(25));
    assert!(p.out(0, t(27)));
    assert!(p.out(0, t(32) - 1));
    assert!(!p.out(0, t(32)));
    assert!(p.out(0, t(37)));
    // GATE low (counter 2) sets OUT high at once and stops the count; the
    // rising edge reloads on the next clock and starts a high half.
    p.write(PORT_61, 1, mid(30));
    p.write(CW, 0x96, mid(30));
    p.write(0x42, 4, mid(30));
    assert!(!p.out(2, t(33)));
    p.write(PORT_61, 0, t(33) + 5);
    assert!(p.out(2, t(33) + 5));
    assert!(p.out(2, t(36)));
    p.write(PORT_61, 1, mid(36));
    assert!(p.out(2, t(38) - 1));
    assert!(!p.out(2, t(39)));
    assert!(p.out(2, t(41)));
    // Count 1 is illegal; the chip runs it as 0 (65536).
    p.write(CW, 0x16, mid(40));
    p.write(0x40, 1, mid(40));
    assert_eq!(p.next_out0_change(mid(40)), Some(t(41 + 32768)));
    // Mode 7 is mode 3 (and reads back as 7).
    p.write(CW, 0x1e, mid(100));
    p.write(0x40, 4, mid(100));
    assert_eq!(p.next_out0_change(mid(100)), Some(t(103)));
    assert_eq!(status(&mut p, 0, mid(100)) & 0x0e, 0x0e);
}

#[test]
fn mode2_count_one_and_mode6() {
    // Mode 6 is mode 2; count 1 runs as 2.
    let mut p = Pit::new();
    p.write(CW, 0x1c, mid(1));
    p.write(0x40, 1, mid(1));
    let ch: Vec<_> = out0_changes(&p, mid(1), 4).iter().map(|c| c.0).collect();
    assert_eq!(ch, [3, 4, 5, 6].map(t));
}

#[test]
fn mode4_software_strobe() {
    // Datasheet figure "Mode 4": OUT high, low for one clock N + 1 clocks
    // after the count is written, and only once.
    let mut p = Pit::new();
    p.write(CW, 0x18, mid(1));
    assert!(p.out(0, mid(1)));
    p.write(0x40, 3, mid(10));
    assert_eq!(p.next_out0_change(mid(10)), Some(t(14)));
    assert_eq!(p.next_out0_change(t(14)), Some(t(15)));
    assert_eq!(p.next_out0_change(t(15)), None);
    assert!(p.out(0, t(100)));
    // Rewriting the count retriggers.
    p.write(0x40, 2, mid(200));
    assert!(!p.out(0, t(203)));
    assert!(p.out(0, t(204)));
    // GATE low holds the count (counter 2).
    p.write(PORT_61, 1, 0);
    p.write(CW, 0x98, mid(300));
    p.write(0x42, 5, mid(300));
    p.write(PORT_61, 0, mid(303));
    p.write(PORT_61, 1, mid(400));
    assert!(p.out(2, t(403) - 1));
    assert!(!p.out(2, t(403)));
}

#[test]
fn mode5_hardware_strobe() {
    let mut p = Pit::new();
    p.write(CW, 0x9a, mid(1)); // counter 2, LSB, mode 5
    p.write(0x42, 4, mid(2));
    assert!(p.out(2, t(100)));
    p.write(PORT_61, 1, mid(100));
    // Loaded at 101, strobe at 105 for one clock.
    assert!(p.out(2, t(105) - 1));
    assert!(!p.out(2, t(105)));
    assert!(p.out(2, t(106)));
    // Retrigger before the strobe restarts the count.
    p.write(PORT_61, 0, mid(200));
    p.write(PORT_61, 1, mid(201));
    p.write(PORT_61, 0, mid(203));
    p.write(PORT_61, 1, mid(203) + 1);
    assert!(p.out(2, t(206)));
    assert!(!p.out(2, t(208)));
}

#[test]
fn latch_freezes_value_until_read() {
    let mut p = Pit::new();
    p.write(CW, 0x30, mid(1));
    p.write(0x40, 0x34, mid(1));
    p.write(0x40, 0x12, mid(1));
    // Loaded at 2 with 0x1234; at edge 10 the CE is 0x1234 - 8.
    assert_eq!(latched(&mut p, 0, mid(10)), 0x1234 - 8);
    p.write(CW, 0x00, mid(20));
    // A second latch before the first is read is ignored.
    p.write(CW, 0x00, mid(30));
    assert_eq!(p.read(0x40, mid(40)), 0x34 - 18);
    assert_eq!(p.read(0x40, mid(40)), 0x12);
    // Unlatched reads follow the counter, LSB then MSB.
    assert_eq!(p.read(0x40, mid(50)), 0x34 - 48);
    assert_eq!(p.read(0x40, mid(51)), 0x12);
    // A latch between the two bytes of an unlatched read is ignored.
    assert_eq!(p.read(0x40, mid(52)), 0x34 - 50);
    p.write(CW, 0x00, mid(53));
    assert_eq!(p.read(0x40, mid(54)), 0x12);
    assert_eq!(p.read(0x40, mid(60)), (0x1234u16 - 58) as u8);
    // MSB-only access: reads and latches return the high byte.
    p.write(CW, 0x20, mid(70));
    p.write(0x40, 0x02, mid(70));
    assert_eq!(p.read(0x40, mid(71)), 0x02);
    assert_eq!(p.read(0x40, mid(72)), 0x01);
    p.write(CW, 0x00, mid(72));
    assert_eq!(p.read(0x40, mid(80)), 0x01);
    // LSB-only: the count is the byte.
    p.write(CW, 0x10, mid(90));
    p.write(0x40, 0x80, mid(90));
    assert_eq!(p.read(0x40, mid(91)), 0x80);
    assert_eq!(p.read(0x40, mid(95)), 0x7c);
}

#[test]
fn read_back_status_and_counts() {
    let mut p = Pit::new();
    p.write(CW, 0x34, mid(1));
    p.write(CW, 0x72, mid(1)); // counter 1, word, mode 1
    p.write(CW, 0xb1, mid(1)); // counter 2, word, mode 0, BCD
                               // Null count until the load; OUT per mode after the control word.
    p.write(0x40, 100, mid(2));
    p.write(0x40, 0, mid(2));
    p.write(CW, 0xee, mid(2)); // status of all three
    assert_eq!(p.read(0x40, mid(2)), 0x80 | 0x40 | 0x34);
    assert_eq!(p.read(0x41, mid(2)), 0x80 | 0x40 | 0x32);
    assert_eq!(p.read(0x42, mid(2)), 0x40 | 0x31);
    assert_eq!(status(&mut p, 0, mid(3)), 0x80 | 0x34);
    // Count and status of counter 0: status first, then the count.
    p.write(CW, 0xc2, mid(10));
    assert_eq!(p.read(0x40, mid(20)), 0x80 | 0x34);
    assert_eq!(p.read(0x40, mid(20)), 93);
    assert_eq!(p.read(0x40, mid(20)), 0);
    // Counts only, of counters 0 and 2 at once; status latch kept until read.
    p.write(CW, 0xd2, mid(30)); // count of counter 0
    p.write(CW, 0xe2, mid(31)); // status of counter 0
    p.write(CW, 0xe2, mid(40)); // ignored: a status is latched
    assert_eq!(p.read(0x40, mid(50)), 0x80 | 0x34);
    assert_eq!(p.read(0x40, mid(50)), 73);
    assert_eq!(p.read(0x40, mid(50)), 0);
    // A status latched while a count is half read comes first, then the
    // count's high byte.
    p.write(CW, 0x00, mid(60));
    assert_eq!(p.read(0x40, mid(60)), 43);
    p.write(CW, 0xe2, mid(61));
    assert_eq!(p.read(0x40, mid(62)), 0x80 | 0x34);
    assert_eq!(p.read(0x40, mid(62)), 0);
    // The control port reads 0; a new control word drops latches.
    assert_eq!(p.read(CW, 0), 0);
    p.write(CW, 0xc2, mid(70));
    p.write(CW, 0x34, mid(70));
    // With no count yet the CE holds where it stopped.
    assert_eq!(p.read(0x40, mid(71)), 33);
    assert_eq!(p.read(0x40, mid(900)), 0);
    assert_eq!(p.read(0x40, mid(901)), 33);
}

#[test]
fn bcd_counting() {
    let mut p = Pit::new();
    p.write(CW, 0x31, mid(1)); // mode 0, BCD
    p.write(0x40, 0x10, mid(1));
    p.write(0x40, 0x00, mid(1));
    // 10 decimal: OUT high 11 clocks after the write.
    assert_eq!(p.next_out0_change(mid(1)), Some(t(12)));
    assert_eq!(latched(&mut p, 0, mid(3)), 0x0009);
    assert_eq!(latched(&mut p, 0, mid(12)), 0x0000);
    assert_eq!(latched(&mut p, 0, mid(13)), 0x9999);
    assert_eq!(latched(&mut p, 0, mid(13 + 1234)), 0x8765);
    // Count 0 in BCD is 10000.
    p.write(CW, 0x35, mid(20000)); // mode 2, BCD
    p.write(0x40, 0, mid(20000));
    p.write(0x40, 0, mid(20000));
    let ch: Vec<_> = out0_changes(&p, mid(20000), 4)
        .iter()
        .map(|c| c.0)
        .collect();
    assert_eq!(ch, [30000, 30001, 40000, 40001].map(t));
    assert_eq!(latched(&mut p, 0, mid(20002)), 0x9999);
    // A control word keeps the CE's bits across a switch to binary and back.
    // (At edge 35000 the CE is 10000 - (35000 - 30001).)
    p.write(CW, 0x30, mid(35000));
    assert_eq!(latched(&mut p, 0, mid(35001)), 0x5001);
    p.write(CW, 0x31, mid(35002));
    assert_eq!(latched(&mut p, 0, mid(35003)), 0x5001);
    // Count 0 in binary mode 0 is 65536.
    p.write(CW, 0x30, mid(50000));
    p.write(0x40, 0, mid(50000));
    p.write(0x40, 0, mid(50000));
    assert_eq!(p.next_out0_change(mid(50000)), Some(t(50001 + 65536)));
}

#[test]
fn control_word_mid_count_resets_flip_flop() {
    let mut p = Pit::new();
    p.write(CW, 0x34, mid(1));
    p.write(0x40, 0x99, mid(1));
    // A read between the two bytes returns the written low byte inverted.
    assert_eq!(p.read(0x40, mid(2)), !0x99);
    p.read(0x40, mid(2));
    p.write(CW, 0x34, mid(3));
    p.write(0x40, 0x10, mid(4));
    p.write(0x40, 0x00, mid(4));
    assert_eq!(p.next_out0_change(mid(4)), Some(t(5 + 15)));
    // Reads of a counter never given a count do not panic and hold.
    let mut q = Pit::new();
    q.write(CW, 0x70, 0);
    assert_eq!(q.read(0x41, mid(100)), q.read(0x41, mid(100)));
    assert_eq!(q.read(0x44, 0), 0xff);
    assert!(!q.out(3, 0));
    q.write(0x47, 0x12, 0);
}

#[test]
fn linux_tsc_calibration_loop() {
    // arch/x86/kernel/tsc.c pit_calibrate_tsc: GATE 2 on, speaker off,
    // counter 2 mode 0 with 10 ms, poll OUT 2 in port 0x61.
    let mut p = Pit::new();
    let mut now = 1_000_000_000;
    let v = p.read(PORT_61, now);
    p.write(PORT_61, (v & !0x02) | 0x01, now);
    p.write(CW, 0xb0, now);
    let latch: u16 = (PIT_HZ / 100) as u16;
    p.write(0x42, latch as u8, now);
    now += 500;
    p.write(0x42, (latch >> 8) as u8, now);
    let end = t(clocks_at(now) + 1 + u64::from(latch));
    let mut polls = 0;
    while p.read(PORT_61, now) & 0x20 == 0 {
        now += 700;
        polls += 1;
        assert!(polls < 100_000);
    }
    assert!(now >= end && now < end + 700, "{now} vs {end}");
    assert_eq!(p.read(PORT_61, now) & 0x0f, 0x01);
    // With GATE 2 low the count does not advance.
    p.write(PORT_61, 0x00, now);
    p.write(CW, 0xb0, now);
    p.write(0x42, 0xff, now);
    p.write(0x42, 0xff, now);
    assert_eq!(p.read(PORT_61, now + 1_000_000_000) & 0x20, 0);
}

#[test]
fn refresh_toggle_flips_every_18_clocks() {
    let mut p = Pit::new();
    let mut last = p.read(PORT_61, 0) & 0x10;
    for k in 1..200u64 {
        let before = p.read(PORT_61, t(18 * k) - 1) & 0x10;
        let after = p.read(PORT_61, t(18 * k)) & 0x10;
        assert_eq!(before, last);
        assert_ne!(after, before, "flip at clock {}", 18 * k);
        last = after;
    }
    // About 15.085 µs apart; writes keep only bits 3:0.
    assert_eq!(t(18) / 10, 1508);
    p.write(PORT_61, 0xfe, 0);
    assert_eq!(p.read(PORT_61, 0) & 0xcf, 0x0e);
}

#[test]
fn save_restore_round_trip() {
    let mut p = Pit::new();
    p.write(PORT_61, 0x03, mid(1));
    p.write(CW, 0x34, mid(1));
    p.write(0x40, 0x00, mid(2));
    p.write(0x40, 0x10, mid(2));
    p.write(CW, 0xb6, mid(3));
    p.write(0x42, 0x33, mid(4));
    p.write(CW, 0xc4, mid(5)); // latch count and status of counter 1
    p.write(0x40, 0x20, mid(6)); // half of a new count
    let s = p.state();
    let mut q = Pit::new();
    q.restore(&s);
    assert_eq!(q.state(), s);
    for k in [7u64, 100, 5000, 100_000] {
        for port in [0x40, 0x41, 0x42, PORT_61] {
            assert_eq!(p.read(port, mid(k)), q.read(port, mid(k)));
        }
        assert_eq!(p.next_out0_change(mid(k)), q.next_out0_change(mid(k)));
    }
    assert_eq!(p.state(), q.state());
    // A damaged snapshot does not panic.
    let mut bad = s.clone();
    bad.channels[0].phase = Phase::Rate { n: 0, j: 7 };
    bad.channels[1].phase = Phase::Square {
        n: 3,
        j: 9,
        high: false,
    };
    bad.channels[2].ce = u32::MAX;
    bad.channels[2].control = 0xc0;
    q.restore(&bad);
    assert_eq!(q.state().channels[2].phase, Phase::Idle);
    for port in [0x40, 0x41, 0x42, PORT_61] {
        q.read(port, mid(10));
    }
    q.next_out0_change(mid(10));
}

/// xorshift64*, for a repeatable stream.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[test]
fn random_programming_is_consistent() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut p = Pit::new();
    let mut now = 0u64;
    for step in 0..100_000 {
        // Mostly short gaps, some long ones.
        now += match rng.below(10) {
            0 => rng.below(200_000_000),
            1..=3 => rng.below(20_000),
            _ => rng.below(3_000),
        };
        let port = [0x40, 0x41, 0x42, 0x43, 0x43, 0x43, PORT_61, 0x44][rng.below(8) as usize];
        // Small counts, so that every mode's edges come often.
        let value = match (port, rng.below(3)) {
            (0x43, _) => rng.next() as u8,
            (_, 0) => rng.below(8) as u8,
            _ => rng.next() as u8,
        };
        if rng.below(3) == 0 {
            p.read(port, now);
        } else {
            p.write(port, value, now);
        }
        // The closed forms agree with advancing one clock at a time (after
        // a jump to a random point within the last 300 clocks).
        let to = clocks_at(now) + rng.below(300);
        for c in &p.state().channels {
            let mut fast = c.clone();
            fast.advance(to);
            let mut slow = c.clone();
            slow.advance(to - rng.below(300));
            while slow.at < to {
                let next = slow.at + 1;
                slow.advance(next);
            }
            assert_eq!(fast, slow, "step {step}");
        }
        // Restoring a state the PIT reached changes nothing.
        let s = p.state();
        let mut q = Pit::new();
        q.restore(&s);
        assert_eq!(q.state(), s, "step {step}");
        // next_out0_change agrees with sampling out(0, t).
        let level = p.out(0, now);
        match p.next_out0_change(now) {
            Some(next) => {
                assert!(next > now);
                assert_eq!(p.out(0, next - 1), level, "step {step}");
                assert_eq!(p.out(0, (now + next) / 2), level, "step {step}");
                assert_ne!(p.out(0, next), level, "step {step}");
            }
            None => {
                for dt in [1, 1000, 100_000_000, 10_000_000_000] {
                    assert_eq!(p.out(0, now + dt), level, "step {step}");
                }
            }
        }
    }
}

#[test]
fn restore_of_any_state_never_panics() {
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let mut p = Pit::new();
    for _ in 0..5_000 {
        let mut s = p.state();
        for c in &mut s.channels {
            let n = rng.below(0x2_0000) as u32;
            let j = rng.below(0x2_0000) as u32;
            c.phase = match rng.below(6) {
                0 => Phase::Idle,
                1 => Phase::Load,
                2 => Phase::Count {
                    armed: rng.below(2) == 0,
                },
                3 => Phase::Strobe,
                4 => Phase::Rate { n, j },
                _ => Phase::Square {
                    n,
                    j,
                    high: rng.below(2) == 0,
                },
            };
            c.control = rng.next() as u8;
            c.ce = rng.next() as u32 >> rng.below(32);
            c.gate = rng.below(2) == 0;
            c.out = rng.below(2) == 0;
            c.write_low = (rng.below(2) == 0).then_some(rng.next() as u8);
            c.latched_count = (rng.below(2) == 0).then_some(LatchedCount {
                value: rng.next() as u16,
                msb_next: rng.below(2) == 0,
                remaining: rng.below(4) as u8,
            });
            c.at = rng.below(1 << 20);
        }
        s.port61 = rng.next() as u8;
        p.restore(&s);
        let now = t(rng.below(1 << 21));
        let level = p.out(0, now);
        if let Some(next) = p.next_out0_change(now) {
            assert_ne!(p.out(0, next), level);
            assert_eq!(p.out(0, next - 1), level);
        }
        for port in [0x40, 0x41, 0x42, 0x43, PORT_61] {
            p.read(port, now);
            p.write(port, rng.next() as u8, now);
        }
    }
}
