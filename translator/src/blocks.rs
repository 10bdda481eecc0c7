//! Block discovery: decoding and classifying the instructions of one
//! block (`plan_block`).

use crate::emit::{self, Kind, Planned};
use cpu_model::interp::{desc, Flow};
use cpu_model::CpuModel;
use iced_x86::{Decoder, DecoderError, DecoderOptions, Instruction};

/// Options of [`plan_block`].
#[derive(Clone, Copy, Debug)]
pub struct PlanOptions {
    /// Longest block.
    pub max: usize,
    /// The block ends before this RIP.
    pub stop: Option<u64>,
    /// Native instructions may have a memory operand (helper calls).
    pub memory: bool,
    /// What SSE and CRC32 instructions may assume (none by default: they
    /// are monitor calls).
    pub simd: emit::SimdEnv,
    /// The processor's CPU model: an instruction it does not enable
    /// (`CpuModel::enables`, the interpreter's own check) never runs
    /// natively, so its monitor call raises the #UD.
    pub model: &'static CpuModel,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            max: 32,
            stop: None,
            memory: true,
            simd: emit::SimdEnv::default(),
            model: &cpu_model::model::XLAT,
        }
    }
}

/// Decode and classify the instructions of one block from `bytes` (the
/// fetchable code from RIP to the end of its page or the CS limit).
pub fn plan_block(
    bytes: &[u8],
    rip: u64,
    bitness: u32,
    cs_limit: u32,
    opts: &PlanOptions,
) -> Vec<Planned> {
    let (max, stop) = (opts.max, opts.stop);
    let mut dec = Decoder::with_ip(bitness, bytes, rip, DecoderOptions::NONE);
    let mut plan = Vec::new();
    let mut ins = Instruction::default();
    let wrap = |v: u64| match bitness {
        16 => v & 0xffff,
        32 => v & 0xffff_ffff,
        _ => v,
    };
    while plan.len() < max && dec.can_decode() {
        dec.decode_out(&mut ins);
        match dec.last_error() {
            DecoderError::None => {}
            // Crosses the page (or the CS limit): left to a later block,
            // where the interpreter fetches it.
            DecoderError::NoMoreBytes => break,
            // Rejected by the decoder (#UD, or #GP(0) when longer than 15
            // bytes): left to the interpreter's own fetch and decode,
            // which raises the right fault; monitor calls only run
            // instructions that decoded.
            _ => break,
        }
        // The engines' shared description says how the instruction flows.
        let flow = desc(ins.code()).flow;
        // Software interrupts are left to `Cpu::step` (its delivery of
        // them uses interpreter internals): the block ends before one.
        if flow == Flow::SoftwareInterrupt {
            break;
        }
        let mut kind = if opts.model.enables(ins.code()) {
            emit::classify(&ins, bitness, cs_limit, opts.memory, opts.simd)
        } else {
            Kind::Monitor
        };
        if let Kind::Native(emit::Native::X87(x)) = &mut kind {
            // FOP comes from the bytes (the ModR/M byte as encoded).
            let end = dec.position();
            x.fop = emit::x87_fop(&bytes[end - ins.len()..end]);
        }
        let next_rip = wrap(ins.next_ip());
        let ends = match kind {
            Kind::Branch(_) => true,
            Kind::Monitor => flow != Flow::Next,
            Kind::Native(_) => false,
        };
        plan.push(Planned {
            ins,
            kind,
            next_rip,
        });
        if ends || next_rip != ins.next_ip() || stop == Some(next_rip) {
            break;
        }
    }
    emit::elide_overwritten_pointers(&mut plan);
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::{Addrs, AluOp, Branch, Native, ShOp};

    fn kinds(bits: u32, code: &[u8]) -> Vec<Kind> {
        plan_block(code, 0x1000, bits, 0xffff, &PlanOptions::default())
            .into_iter()
            .map(|p| p.kind)
            .collect()
    }

    #[test]
    fn classification() {
        // add eax, [rbx]: native with a memory-read helper, or a monitor
        // call without native memory.
        assert!(matches!(
            kinds(64, &[0x03, 0x03])[0],
            Kind::Native(Native::Alu {
                op: AluOp::Add,
                src: emit::Src::Mem,
                ..
            })
        ));
        let no_mem = PlanOptions {
            memory: false,
            ..PlanOptions::default()
        };
        assert_eq!(
            plan_block(&[0x03, 0x03], 0, 64, 0, &no_mem)[0].kind,
            Kind::Monitor
        );
        // add [rbx], eax (read-modify-write): native, memory destination;
        // with LOCK: a monitor call.
        assert!(matches!(
            kinds(64, &[0x01, 0x03])[0],
            Kind::Native(Native::MemDst { size: 4, .. })
        ));
        assert_eq!(kinds(64, &[0xf0, 0x01, 0x03]), vec![Kind::Monitor]);
        // xchg [rbx], eax: monitor call.
        assert_eq!(kinds(64, &[0x87, 0x03]), vec![Kind::Monitor]);
        // lock add [rbx], eax: monitor.
        assert_eq!(kinds(64, &[0xf0, 0x01, 0x03]), vec![Kind::Monitor]);
        // shl eax, 0 / shl eax, 32 (masked count 0): monitor; shl eax, 31 native.
        assert_eq!(kinds(64, &[0xc1, 0xe0, 0x00])[0], Kind::Monitor);
        assert_eq!(kinds(64, &[0xc1, 0xe0, 0x20])[0], Kind::Monitor);
        assert!(matches!(
            kinds(64, &[0xc1, 0xe0, 0x1f])[0],
            Kind::Native(Native::Shift {
                op: ShOp::Shl,
                count: 31,
                ..
            })
        ));
        // shl al, 8 (count = width, CF undefined): monitor.
        assert_eq!(kinds(64, &[0xc0, 0xe0, 0x08])[0], Kind::Monitor);
        // xor ah, bh: native with high-byte locations.
        assert!(matches!(
            kinds(64, &[0x30, 0xfc])[0],
            Kind::Native(Native::Alu {
                op: AluOp::Xor,
                size: 1,
                ..
            })
        ));
        // mov ds, ax: monitor (segment load).
        assert_eq!(kinds(16, &[0x8e, 0xd8])[0], Kind::Monitor);
    }

    #[test]
    fn blocks_end_at_branches_and_limits() {
        // inc eax; jmp +0; inc eax: the block ends at the JMP.
        let k = kinds(32, &[0x40, 0xeb, 0x00, 0x40]);
        assert_eq!(k.len(), 2);
        assert_eq!(k[1], Kind::Branch(Branch::Jmp { target: 0x1003 }));
        // A JMP beyond the CS limit (0xffff) is left to the interpreter
        // (#GP): jmp rel32 to 0x11005.
        let k = kinds(32, &[0xe9, 0x00, 0x00, 0x01, 0x00]);
        assert_eq!(k, vec![Kind::Monitor]);
        // An instruction cut by the end of the fetchable bytes is not in
        // the block.
        assert_eq!(kinds(32, &[0x40, 0x90, 0xb8, 0x01]).len(), 2);
        // At most `max` instructions.
        let opts = PlanOptions::default();
        assert_eq!(plan_block(&[0x90; 100], 0x1000, 64, 0, &opts).len(), 32);
        // The block stops before `stop`.
        let opts = PlanOptions {
            stop: Some(0x1005),
            ..opts
        };
        assert_eq!(plan_block(&[0x90; 100], 0x1000, 64, 0, &opts).len(), 5);
    }

    /// Chain bookkeeping stays exact under eviction churn: every incoming
    /// record names a live block whose exit is chained here.
    #[test]
    fn block_sizes() {
        // mov ecx, 50; add eax, ecx; jmp
        let code = [0xb9, 50, 0, 0, 0, 0x01, 0xc8, 0xeb, 0x00];
        let plan = plan_block(&code, 0x1000, 64, 0, &PlanOptions::default());
        assert_eq!(plan.len(), 3);
        let addrs = Addrs {
            exit_common: 0x1111,
            monitor: 0x2222,
            mem_read: 0x5555,
            mem_write: 0x6666,
            stack: 0x7777,
            simd_slow: 0x8888,
            fill: 0x9999,
        };
        let e = emit::emit_block(&plan, 64, &addrs, [0x3333, 0x4444], 0x5555, &|_| 0).unwrap();
        assert!(e.code.len() < 300, "{}", e.code.len());
    }
}
