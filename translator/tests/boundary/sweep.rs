//! The deterministic sweep: every size x offset x (kind of A, kind of
//! B) of a mode, the other dimensions rotating.

use super::case::{Case, Kind, Mode, Place, Warm};
use super::form::forms;

fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Every size x offset x (kind of A, kind of B) of `mode` (and every
/// kind of the canonical side of the canonical boundaries); for an
/// access that crosses the boundary also both warm sides and (with
/// paging) both physical placements. The rest (place among the
/// two-sided ones, form of the size, CPL, CR0.WP, and the warm side and
/// placement of accesses that do not cross) rotates.
pub(crate) fn sweep(mode: Mode) -> Vec<Case> {
    let mut cases = Vec::new();
    let paged = mode != Mode::Real;
    let two_sided: Vec<Place> = mode
        .places()
        .iter()
        .copied()
        .filter(|p| !matches!(p, Place::CanonLow | Place::CanonHigh))
        .collect();
    let kinds = mode.kinds();
    let mut groups: Vec<(Option<Place>, Kind, Kind)> = Vec::new();
    for &ka in kinds {
        for &kb in kinds {
            groups.push((None, ka, kb));
        }
    }
    if mode == Mode::Long64 {
        for &k in kinds {
            groups.push((Some(Place::CanonLow), k, Kind::NonCanonical));
            groups.push((Some(Place::CanonHigh), Kind::NonCanonical, k));
        }
    }
    let mut n = 0u64;
    for size in mode.sizes() {
        let forms = forms(mode, size);
        for offset in -16..16 {
            for &(place, kind_a, kind_b) in &groups {
                let crosses = offset < 0 && offset + size as i32 > 0;
                let one_sided = place.is_some();
                let warms: &[Warm] = if crosses && !one_sided {
                    &[Warm::B, Warm::A]
                } else {
                    &[Warm::B]
                };
                let adjacency: &[bool] = if crosses && paged && !one_sided {
                    &[true, false]
                } else {
                    &[true]
                };
                for &warm in warms {
                    for &adjacent in adjacency {
                        n += 1;
                        let h = mix(n ^ ((mode as u64) << 56));
                        let rotate = |bits: u32, len: usize| ((h >> bits) % len as u64) as usize;
                        let warm = if crosses || rotate(0, 4) != 0 {
                            warm
                        } else {
                            Warm::A
                        };
                        let adjacent = if crosses || !paged {
                            adjacent
                        } else {
                            rotate(8, 2) == 0
                        };
                        cases.push(Case {
                            mode,
                            place: place.unwrap_or(two_sided[rotate(16, two_sided.len())]),
                            form: forms[rotate(24, forms.len())],
                            offset,
                            kind_a,
                            kind_b,
                            adjacent,
                            warm,
                            cpl3: paged && rotate(32, 2) == 1,
                            wp: paged && rotate(40, 2) == 1,
                        });
                    }
                }
            }
        }
    }
    cases
}
