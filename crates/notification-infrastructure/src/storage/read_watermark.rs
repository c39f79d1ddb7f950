//! [`ReadWatermark`]: how a read-all marks every unread notification of a
//! user read without touching their rows (migration `read_watermark`).
//!
//! A read-all stores its seq and its `read_at` on the user's counter row. A
//! row stored UNREAD whose `changed_seq` (the seq of its creation or of its
//! latest status change; NULL for rows older than the migration) is below
//! that seq was unread when the read-all ran and has not changed since: it
//! IS READ, read at the read-all's `read_at`. Every read of a row goes
//! through [`ReadWatermark::effective_status`], so the rule is written once
//! in Rust; the status filters of a listing repeat it in SQL
//! (`sql_repository::list_text`). The materializer (`read_all_materializer`)
//! later rewrites such rows as stored READ in bounded chunks, which changes
//! no effective state.

use notification_domain::{NotificationStatus, RepositoryError};
use time::OffsetDateTime;

/// A user's latest read-all, as kept on the counter row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ReadWatermark {
    /// The read-all's seq; 0 when the user never read all.
    pub(crate) seq: i64,
    /// The read-all's `read_at`; `None` only when `seq` is 0.
    pub(crate) at: Option<OffsetDateTime>,
}

impl ReadWatermark {
    /// The watermark from the counter's columns (no counter row: none).
    pub(crate) fn of(seq: Option<i64>, at: Option<OffsetDateTime>) -> Self {
        Self {
            seq: seq.unwrap_or(0),
            at,
        }
    }

    /// Whether a row last changed at `changed_seq` is older than the
    /// read-all (and so, when stored UNREAD, read by it).
    pub(crate) fn covers(&self, changed_seq: Option<i64>) -> bool {
        changed_seq.unwrap_or(0) < self.seq
    }

    /// The status and `read_at` of a row as the user sees them, given what
    /// is stored: a covered UNREAD row is READ at the read-all's time.
    pub(crate) fn effective_status(
        &self,
        stored: &str,
        read_at: Option<OffsetDateTime>,
        changed_seq: Option<i64>,
    ) -> Result<(String, Option<OffsetDateTime>), RepositoryError> {
        if stored != NotificationStatus::Unread.as_str() || !self.covers(changed_seq) {
            return Ok((stored.to_owned(), read_at));
        }
        let at = self.at.ok_or_else(|| {
            RepositoryError::Corrupt(format!("read-all {} has no read_at", self.seq))
        })?;
        Ok((NotificationStatus::Read.as_str().to_owned(), Some(at)))
    }

    /// Whether a row stored with `status` counts as unread.
    pub(crate) fn is_unread(&self, stored: &str, changed_seq: Option<i64>) -> bool {
        stored == NotificationStatus::Unread.as_str() && !self.covers(changed_seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use notification_domain::now;

    #[test]
    fn an_unread_row_older_than_the_read_all_is_read_at_its_time() {
        let at = now();
        let watermark = ReadWatermark::of(Some(5), Some(at));
        let (status, read_at) = watermark.effective_status("UNREAD", None, Some(4)).unwrap();
        assert_eq!((status.as_str(), read_at), ("READ", Some(at)));
        // Written before the migration: older than any read-all.
        assert!(watermark.covers(None));
        assert!(!watermark.is_unread("UNREAD", None));
    }

    #[test]
    fn rows_changed_after_it_and_other_statuses_read_as_stored() {
        let at = now();
        let earlier = at - time::Duration::minutes(1);
        let watermark = ReadWatermark::of(Some(5), Some(at));
        let unread = watermark.effective_status("UNREAD", None, Some(6)).unwrap();
        assert_eq!((unread.0.as_str(), unread.1), ("UNREAD", None));
        assert!(watermark.is_unread("UNREAD", Some(6)));
        let read = watermark
            .effective_status("READ", Some(earlier), Some(2))
            .unwrap();
        assert_eq!((read.0.as_str(), read.1), ("READ", Some(earlier)));
        let archived = watermark
            .effective_status("ARCHIVED", None, Some(1))
            .unwrap();
        assert_eq!(archived.0, "ARCHIVED");
        assert!(!watermark.is_unread("ARCHIVED", Some(9)));
    }

    #[test]
    fn no_read_all_covers_nothing_and_one_without_a_time_is_corrupt() {
        assert!(!ReadWatermark::of(None, None).covers(None));
        let broken = ReadWatermark::of(Some(3), None);
        assert!(matches!(
            broken.effective_status("UNREAD", None, Some(1)),
            Err(RepositoryError::Corrupt(_))
        ));
    }
}
