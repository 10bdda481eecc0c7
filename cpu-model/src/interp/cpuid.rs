//! (being written)

use super::Table;

pub(super) fn register(_t: &mut Table) {}

/// CPUID leaf `leaf`, subleaf `sub`: (EAX, EBX, ECX, EDX).
pub fn cpuid(_leaf: u32, _sub: u32) -> (u32, u32, u32, u32) {
    (0, 0, 0, 0)
}
