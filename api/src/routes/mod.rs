//! Route handlers, one module per resource.

pub(crate) mod attestations;
pub(crate) mod events;
pub(crate) mod evidence;
pub(crate) mod gateway;
pub(crate) mod status;
pub(crate) mod tasks;
pub(crate) mod workers;
