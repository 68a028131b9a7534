//! What every start of Slipway (the window, a CLI command) puts right before anything else,
//! in one place: releases a killed Slipway left "running" are marked interrupted, and the
//! links older versions kept app-wide move into their projects (once per data folder).

use super::{mark_interrupted, Context};
use crate::error::AppError;

/// Returns how many releases were marked interrupted. A links upgrade that fails is logged,
/// never a reason not to start.
pub fn start_up(context: &Context) -> Result<usize, AppError> {
    let marked = mark_interrupted(context);
    if let Ok(count @ 1..) = marked {
        tracing::warn!(
            count,
            "releases left running by an earlier start are marked interrupted"
        );
    }
    // Whatever the marking found: the upgrade does not depend on it.
    if let Err(error) = crate::links::upgrade(&context.data_dir, &context.ledger) {
        tracing::warn!(
            "the app-wide links could not be moved into their projects: {}",
            error.message
        );
    }
    marked
}
