//! [`StatusChange`]: the kinds of change a user makes to one notification's
//! status, defined once for every layer (the wire spelling lives in the
//! protocol crate).

/// A change of one notification's status asked for by its user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusChange {
    Read,
    Unread,
    Archive,
}
