//! (being written)

use super::Table;

pub(super) fn register(_t: &mut Table) {}
