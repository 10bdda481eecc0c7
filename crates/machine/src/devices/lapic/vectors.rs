//! The 256-bit vector registers (IRR, ISR, TMR: SDM 11.8.4) and the
//! priorities derived from them (11.8.3: processor priority, Figure 11-19;
//! arbitration priority, Figure 11-15). A vector's priority class is its
//! bits 7:4; class 1 (vectors 16–31) is the lowest usable one.

/// Is vector `v` set?
pub fn test(set: &[u32; 8], v: u8) -> bool {
    set[usize::from(v >> 5)] >> (v & 31) & 1 != 0
}

pub fn set(bits: &mut [u32; 8], v: u8) {
    bits[usize::from(v >> 5)] |= 1 << (v & 31);
}

pub fn clear(bits: &mut [u32; 8], v: u8) {
    bits[usize::from(v >> 5)] &= !(1 << (v & 31));
}

/// The highest vector set, if any.
pub fn highest(bits: &[u32; 8]) -> Option<u8> {
    (0..8usize)
        .rev()
        .find(|&w| bits[w] != 0)
        .map(|w| (w * 32 + 31 - bits[w].leading_zeros() as usize) as u8)
}

/// The processor priority (11.8.3.1): the TPR if its class is at least
/// the class of the highest vector in service, else that class.
pub fn processor_priority(tpr: u8, isr: &[u32; 8]) -> u8 {
    let isrv = highest(isr).unwrap_or(0);
    if tpr >> 4 >= isrv >> 4 {
        tpr
    } else {
        isrv & 0xf0
    }
}

/// The arbitration priority (Figure 11-15): the TPR if its class is at
/// least the highest requested class and above the highest in-service
/// class; otherwise the larger of (TPR class AND ISR class) and the IRR
/// class, in bits 7:4.
pub fn arbitration_priority(tpr: u8, isr: &[u32; 8], irr: &[u32; 8]) -> u8 {
    let tpr_class = tpr >> 4;
    let isr_class = highest(isr).unwrap_or(0) >> 4;
    let irr_class = highest(irr).unwrap_or(0) >> 4;
    if tpr_class >= irr_class && tpr_class > isr_class {
        tpr
    } else {
        (tpr_class & isr_class).max(irr_class) << 4
    }
}
