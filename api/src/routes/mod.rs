//! Route handlers, one module per resource.

pub(crate) mod attestations;
pub(crate) mod credentials;
pub(crate) mod custody;
pub(crate) mod events;
pub(crate) mod evidence;
pub(crate) mod explorer;
pub(crate) mod gateway;
pub(crate) mod keys;
pub(crate) mod market;
pub(crate) mod status;
pub(crate) mod tasks;
pub(crate) mod vcapi;
pub(crate) mod verify;
pub(crate) mod webhooks;
pub(crate) mod workers;
