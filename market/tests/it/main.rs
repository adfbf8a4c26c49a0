//! Integration tests of the marketplace's state machine.

mod machine;
mod props;
