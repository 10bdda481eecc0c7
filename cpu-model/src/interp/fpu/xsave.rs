//! The XSAVE feature set for the x87 and SSE state components: XSAVE,
//! XSAVE64, XSAVEOPT, XSAVEOPT64, XRSTOR, XRSTOR64 (standard form only),
//! XGETBV, XSETBV. SDM Vol. 1 ch. 13 ("Managing State Using the XSAVE
//! Feature Set": §13.6 XINUSE, §13.7 XSAVE, §13.8.1 standard-form XRSTOR,
//! §13.9 XSAVEOPT) and Vol. 2 under each mnemonic. Layout: `crate::xstate`;
//! the legacy region is the FXSAVE image (`crate::fxstate`).
//!
//! XINUSE (which components are not in their initial configuration) is
//! computed from the state when needed: x87 is in use unless FCW = 037FH,
//! FSW = 0, every register empty and zero and FOP, FIP, FDP, FCS, FDS = 0;
//! SSE unless XMM0-15 are all zero (MXCSR does not count). The SDM lets
//! a processor report a component in use even in its initial
//! configuration, never the reverse; this is exact.
//!
//! XSAVEOPT uses the init optimization (a component in its initial
//! configuration is not written, its XSTATE_BV bit cleared) and not the
//! modified optimization (it writes every other requested component), as
//! the SDM allows (§13.9). XSAVEC, XSAVES and XRSTORS are not advertised
//! (CPUID.(0DH,1):EAX) and raise #UD; so does XGETBV with ECX = 1 (#GP(0),
//! as an XCR that does not exist).

use super::super::Table;
use crate::exception::{Exception, Fault};
use crate::fxstate::{FxFormat, FxState, X87Reg, FCW_INIT, MXCSR_MASK};
use crate::memory::Bus;
use crate::model::bit;
use crate::state::{cr0, cr4, reg, CpuMode, SegReg};
use crate::xstate::{HEADER, XCR0_SSE, XCR0_SUPPORTED, XCR0_X87, XSAVE_AREA_MAX};
use crate::Cpu;
use iced_x86::{Instruction, Mnemonic};

pub(super) fn register(t: &mut Table) {
    for m in [
        Mnemonic::Xsave,
        Mnemonic::Xsave64,
        Mnemonic::Xsaveopt,
        Mnemonic::Xsaveopt64,
    ] {
        t.set(m, xsave);
    }
    t.set(Mnemonic::Xrstor, xrstor);
    t.set(Mnemonic::Xrstor64, xrstor);
    t.set(Mnemonic::Xgetbv, xgetbv);
    t.set(Mnemonic::Xsetbv, xsetbv);
}

const AREA: usize = XSAVE_AREA_MAX as usize;

/// XINUSE for the supported components (see the module comment).
pub(crate) fn xinuse(cpu: &Cpu) -> u64 {
    let st = &cpu.state;
    let fx = &st.fx;
    let x87_init = fx.fcw == FCW_INIT
        && fx.fsw == 0
        && fx.ftw == 0
        && fx.fop == 0
        && fx.fip == 0
        && fx.fdp == 0
        && st.fcs == 0
        && st.fds == 0
        && fx.st.iter().all(|r| r.signif == 0 && r.sign_exp == 0);
    let sse_init = fx.xmm.iter().all(|x| *x == [0; 16]);
    (if x87_init { 0 } else { XCR0_X87 }) | (if sse_init { 0 } else { XCR0_SSE })
}

/// The checks every XSAVE/XRSTOR form makes before touching memory, in the
/// SDM's order: #UD without CR4.OSXSAVE, #NM with CR0.TS (CR0.EM does not
/// matter), #GP(0) unless the linear address is 64-byte aligned. Returns
/// the area (segment, offset), the FXSAVE format of its legacy region (the
/// 64 forms: 64-bit FIP/FDP) and RFBM = XCR0 AND EDX:EAX.
fn area(cpu: &Cpu, ins: &Instruction) -> Result<(SegReg, u64, FxFormat, u64), Exception> {
    let st = &cpu.state;
    if st.cr4 & cr4::OSXSAVE == 0 {
        return Err(Exception::UD);
    }
    if st.cr0 & cr0::TS != 0 {
        return Err(Exception::NM);
    }
    if cpu.mem_linear_unchecked(ins) & 63 != 0 {
        return Err(Exception::GP(0));
    }
    let format = match ins.mnemonic() {
        Mnemonic::Xsave64 | Mnemonic::Xsaveopt64 | Mnemonic::Xrstor64 => FxFormat::Wide,
        _ => FxFormat::Legacy,
    };
    let edx_eax = (st.gpr[reg::RDX] << 32) | (st.gpr[reg::RAX] & 0xffff_ffff);
    let rfbm = st.xcr0 & edx_eax;
    Ok((
        Cpu::mem_segment(ins),
        cpu.effective_address(ins),
        format,
        rfbm,
    ))
}

/// Bytes of the XMM registers of the SSE component: XMM0-15 in 64-bit
/// mode, XMM0-7 outside it (SDM Vol. 1 §13.5.2).
fn xmm_bytes(cpu: &Cpu) -> usize {
    16 * if cpu.state.mode() == CpuMode::Long64 {
        16
    } else {
        8
    }
}

fn u64_at(img: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&img[at..at + 8]);
    u64::from_le_bytes(b)
}

/// XSAVE/XSAVE64 mem and XSAVEOPT/XSAVEOPT64 mem — SDM Vol. 1 §13.7,
/// §13.9: for each component i of RFBM (XSAVEOPT: only those in use) the
/// component's bytes of the area; MXCSR and MXCSR_MASK when RFBM[1]; then
/// XSTATE_BV[i] := XINUSE[i] for i in RFBM, its other bits and the rest
/// of the header and legacy region unchanged. CR4.OSFXSR plays no part.
/// Nothing is written unless all of the area can be.
fn xsave(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    let (seg, off, format, rfbm) = area(cpu, ins)?;
    let opt = matches!(ins.mnemonic(), Mnemonic::Xsaveopt | Mnemonic::Xsaveopt64);
    cpu.probe_write_mem(bus, seg, off, XSAVE_AREA_MAX)?;
    let mut bv = [0u8; 8];
    cpu.read_mem_block(bus, seg, off.wrapping_add(HEADER as u64), &mut bv)?;
    let in_use = xinuse(cpu);
    let mut img = [0u8; 416];
    let st = &cpu.state;
    st.fx.save(format, st.fcs, st.fds, true, &mut img);
    let at = |o: usize| off.wrapping_add(o as u64);
    if rfbm & XCR0_X87 != 0 && (!opt || in_use & XCR0_X87 != 0) {
        cpu.write_mem_block(bus, seg, off, &img[..24])?;
        cpu.write_mem_block(bus, seg, at(32), &img[32..160])?;
    }
    if rfbm & XCR0_SSE != 0 {
        cpu.write_mem_block(bus, seg, at(24), &img[24..32])?;
        if !opt || in_use & XCR0_SSE != 0 {
            let n = xmm_bytes(cpu);
            cpu.write_mem_block(bus, seg, at(160), &img[160..160 + n])?;
        }
    }
    let xstate_bv = (u64::from_le_bytes(bv) & !rfbm) | (in_use & rfbm);
    cpu.write_mem_block(bus, seg, at(HEADER), &xstate_bv.to_le_bytes())?;
    Ok(())
}

/// XRSTOR/XRSTOR64 mem — SDM Vol. 1 §13.8.1 (standard form; XSAVEC is not
/// advertised, so a compacted-form header is one of the #GP cases). #GP(0)
/// before anything changes when XSTATE_BV sets a bit not in XCR0, when
/// header bytes 8-23 (XCOMP_BV and the next 8) are not all zero, or when
/// RFBM[1] = 1 and the image's MXCSR sets a bit outside MXCSR_MASK. Then,
/// for each component i of RFBM: loaded from the area if XSTATE_BV[i] = 1,
/// else initialized (x87: FNINIT's values and every register +0.0; SSE:
/// the XMM registers of the mode zeroed). MXCSR is loaded from the area
/// whenever RFBM[1] = 1, whatever XSTATE_BV[1] says.
fn xrstor(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    let (seg, off, format, rfbm) = area(cpu, ins)?;
    let mut img = [0u8; AREA];
    cpu.read_mem_block(bus, seg, off, &mut img)?;
    let xstate_bv = u64_at(&img, HEADER);
    let reserved = u64_at(&img, HEADER + 8) | u64_at(&img, HEADER + 16);
    if xstate_bv & !cpu.state.xcr0 != 0 || reserved != 0 {
        return Err(Exception::GP(0).into());
    }
    let mxcsr = u32::from_le_bytes([img[24], img[25], img[26], img[27]]);
    if rfbm & XCR0_SSE != 0 && mxcsr & !MXCSR_MASK != 0 {
        return Err(Exception::GP(0).into());
    }
    if rfbm & XCR0_X87 != 0 {
        if xstate_bv & XCR0_X87 != 0 {
            let (fcs, fds) = cpu.state.fx.restore(format, false, &img[..416]);
            if format == FxFormat::Legacy {
                cpu.state.fcs = fcs;
                cpu.state.fds = fds;
            }
        } else {
            init_x87(cpu);
        }
    }
    if rfbm & XCR0_SSE != 0 {
        cpu.state.fx.mxcsr = mxcsr;
        let n = xmm_bytes(cpu) / 16;
        for (i, x) in cpu.state.fx.xmm.iter_mut().enumerate().take(n) {
            *x = if xstate_bv & XCR0_SSE != 0 {
                let mut v = [0u8; 16];
                v.copy_from_slice(&img[160 + 16 * i..176 + 16 * i]);
                v
            } else {
                [0; 16]
            };
        }
    }
    Ok(())
}

/// The x87 component's initial configuration (SDM Vol. 1 §13.6).
fn init_x87(cpu: &mut Cpu) {
    let mxcsr = cpu.state.fx.mxcsr;
    let xmm = cpu.state.fx.xmm;
    let fx = &mut cpu.state.fx;
    *fx = FxState {
        fcw: FCW_INIT,
        fsw: 0,
        ftw: 0,
        st: [X87Reg::default(); 8],
        mxcsr,
        xmm,
        ..FxState::reset()
    };
    cpu.state.fcs = 0;
    cpu.state.fds = 0;
}

/// XGETBV — SDM Vol. 2 "XGETBV": #UD without CR4.OSXSAVE; EDX:EAX :=
/// XCR0 for ECX = 0, XCR0 AND XINUSE for ECX = 1 where CPUID.(0DH,1):
/// EAX[2] says so; #GP(0) for any other ECX. Allowed at every CPL.
fn xgetbv(cpu: &mut Cpu, _bus: &mut dyn Bus, _ins: &Instruction) -> Result<(), Fault> {
    if cpu.state.cr4 & cr4::OSXSAVE == 0 {
        return Err(Exception::UD.into());
    }
    let v = match cpu.state.gpr[reg::RCX] as u32 {
        0 => cpu.state.xcr0,
        1 if cpu.model.has_xsave_feature(bit::XGETBV1) => cpu.state.xcr0 & xinuse(cpu),
        _ => return Err(Exception::GP(0).into()),
    };
    cpu.state.gpr[reg::RAX] = v & 0xffff_ffff;
    cpu.state.gpr[reg::RDX] = v >> 32;
    Ok(())
}

/// XSETBV — SDM Vol. 2 "XSETBV": #UD without CR4.OSXSAVE; #GP(0) at
/// CPL > 0 (virtual-8086 mode included), for ECX other than 0 (XCR0), for
/// a value with a bit XCR0 does not support (CPUID.(0DH,0):EDX:EAX) or
/// with bit 0 (x87) clear.
fn xsetbv(cpu: &mut Cpu, _bus: &mut dyn Bus, _ins: &Instruction) -> Result<(), Fault> {
    let st = &cpu.state;
    if st.cr4 & cr4::OSXSAVE == 0 {
        return Err(Exception::UD.into());
    }
    let v = (st.gpr[reg::RDX] << 32) | (st.gpr[reg::RAX] & 0xffff_ffff);
    let valid = v & !XCR0_SUPPORTED == 0 && v & XCR0_X87 != 0;
    if st.cpl() != 0 || st.gpr[reg::RCX] as u32 != 0 || !valid {
        return Err(Exception::GP(0).into());
    }
    cpu.state.xcr0 = v;
    Ok(())
}

#[cfg(test)]
#[path = "xsave_tests.rs"]
mod tests;
