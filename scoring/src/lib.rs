//! The jejak reputation and credit formula (versioned, integer arithmetic) and epoch snapshots.
