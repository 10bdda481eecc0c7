//! Encoding a case: instructions back to back at [`CODE_ADDR`], branch
//! targets resolved to the instructions they aim at.

use crate::{CODE_ADDR, CODE_SIZE};
use iced_x86::{Encoder, Instruction, OpKind};

pub(super) fn is_branch(ins: &Instruction) -> bool {
    matches!(ins.op0_kind(), OpKind::NearBranch64 | OpKind::NearBranch32)
}

fn set_target(ins: &mut Instruction, target: u64) {
    if ins.op0_kind() == OpKind::NearBranch32 {
        ins.set_near_branch32(target as u32);
    } else {
        ins.set_near_branch64(target);
    }
}

/// Encode the case's instructions back to back at [`CODE_ADDR`], then a
/// NOP as the landing pad for forward branches. A branch targets the first
/// kept instruction at or after its spec target. Instructions the encoder
/// rejects (AH with a REX prefix, a short branch out of range) are dropped.
pub(super) fn encode_all(
    mut list: Vec<(Instruction, Option<usize>)>,
    n: usize,
    bits: u32,
) -> Vec<u8> {
    let mut spec_index: Vec<usize> = (0..list.len()).collect();
    loop {
        // Pass 1: addresses, with every branch aimed at itself (the length
        // of a branch does not depend on its target for a fixed Code).
        let mut addrs = Vec::with_capacity(list.len() + 1);
        let mut ip = CODE_ADDR;
        let mut bad = None;
        for (k, (ins, target)) in list.iter().enumerate() {
            let mut probe = *ins;
            if target.is_some() {
                set_target(&mut probe, ip);
            }
            addrs.push(ip);
            match Encoder::new(bits).encode(&probe, ip) {
                Ok(len) => ip += len as u64,
                Err(_) => {
                    bad = Some(k);
                    break;
                }
            }
        }
        if let Some(k) = bad {
            list.remove(k);
            spec_index.remove(k);
            continue;
        }
        addrs.push(ip); // the landing NOP
                        // Pass 2: real targets.
        let mut out = Vec::new();
        for (k, (ins, target)) in list.iter().enumerate() {
            let mut ins = *ins;
            if let Some(t) = target {
                let dest = (0..list.len())
                    .find(|&j| j > k && spec_index[j] >= *t)
                    .map_or(addrs[list.len()], |j| addrs[j]);
                set_target(&mut ins, dest);
            }
            let mut enc = Encoder::new(bits);
            match enc.encode(&ins, addrs[k]) {
                Ok(len) if addrs[k] + len as u64 == addrs[k + 1] => out.extend(enc.take_buffer()),
                _ => {
                    bad = Some(k);
                    break;
                }
            }
        }
        if let Some(k) = bad {
            list.remove(k);
            spec_index.remove(k);
            continue;
        }
        out.push(0x90);
        debug_assert!(
            out.len() + 5 <= CODE_SIZE,
            "{n} instructions overflow the code page"
        );
        return out;
    }
}
