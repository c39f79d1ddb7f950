//! A batch of plain creates on PostgreSQL: one statement, no transaction
//! around it (a statement is atomic on its own), so one round trip where the
//! general batch (`postgres_batch`) takes four (BEGIN, the counters, the
//! rows, COMMIT). Under steady load most batches are such creates.
//!
//! The counters are taken and moved by an upsert in ascending user order,
//! like the general batch takes them, so the two never deadlock; the upsert
//! updates the latest committed version of a row another writer held, so
//! each user's numbers stay consecutive across nodes. Each create's seq and
//! unread count are the user's counter after the statement, minus what the
//! user's later creates in the batch add (computed here, bound per row).

use std::collections::BTreeMap;

use notification_domain::{IdempotentBatchInsert, Notification, RepositoryError};
use sqlx::{PgConnection, Row};
use uuid::Uuid;

use super::error::repository_error;
use super::idempotency_row::unix_micros;
use super::postgres_batch::Columns;
use super::sql_repository::unread_weight;
use super::write::{Write, Written};
use super::write_batch::position_of;

/// `$1`–`$10`: the notifications' columns (see [`Columns`]); `$11`, `$12`:
/// what each one's later creates of the same user add to the seq and to the
/// count; `$13`: its `occurred_at` in µs; `$14`–`$16`: per user (ascending),
/// the creates and the unread ones among them. Returns each create's seq and
/// count, in batch order.
const WRITE_CREATES: &str = "\
    WITH counters AS ( \
        INSERT INTO unread_counters (user_id, unread_count, seq) \
        SELECT user_id, added, created \
        FROM UNNEST($14::uuid[], $15::int8[], $16::int8[]) AS batch (user_id, created, added) \
        ORDER BY user_id \
        ON CONFLICT (user_id) DO UPDATE SET \
            unread_count = unread_counters.unread_count + EXCLUDED.unread_count, \
            seq = unread_counters.seq + EXCLUDED.seq \
        RETURNING user_id, unread_count, seq \
    ), items AS ( \
        SELECT i.*, c.seq - i.seq_back AS seq, c.unread_count - i.count_back AS unread_count \
        FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], \
            $6::text[], $7::jsonb[], $8::timestamptz[], $9::timestamptz[], \
            $10::timestamptz[], $11::int8[], $12::int8[], $13::int8[]) WITH ORDINALITY \
            AS i (id, user_id, title, message, type, status, metadata, created_at, read_at, \
                  archived_at, seq_back, count_back, occurred_at_micros, ord) \
        JOIN counters c ON c.user_id = i.user_id \
    ), new AS ( \
        INSERT INTO notifications \
            (id, user_id, title, message, type, status, metadata, created_at, read_at, \
             archived_at, changed_seq) \
        SELECT id, user_id, title, message, type, status, metadata, created_at, read_at, \
            archived_at, seq FROM items \
    ), logged AS ( \
        INSERT INTO notification_changes \
            (user_id, seq, kind, notification_id, unread_count, occurred_at_micros, \
             title, message, type, metadata, created_at) \
        SELECT user_id, seq, 'created', id, unread_count, occurred_at_micros, \
            title, message, type, metadata, created_at FROM items \
    ) \
    SELECT seq, unread_count FROM items ORDER BY ord";

/// The batch's notifications in order, if every write of it is a create
/// without an idempotency key (single or a list); else `None`.
pub(crate) fn plain_creates(batch: &[Write]) -> Option<Vec<&Notification>> {
    let mut notifications = Vec::with_capacity(batch.len());
    for write in batch {
        match write {
            Write::Create(notification) => notifications.push(notification),
            Write::CreateBatch {
                notifications: list,
                claim: None,
            } => notifications.extend(list),
            _ => return None,
        }
    }
    Some(notifications)
}

/// Writes `notifications` (those of `batch`, from [`plain_creates`]) in one
/// statement; returns each write's answer.
pub(crate) async fn write_creates(
    connection: &mut PgConnection,
    batch: &[Write],
    notifications: &[&Notification],
) -> Result<Result<Vec<Written>, RepositoryError>, sqlx::Error> {
    let offsets = Offsets::of(notifications);
    let columns = Columns::of(notifications);
    let occurred_at: Vec<i64> = notifications
        .iter()
        .map(|n| unix_micros(n.created_at()))
        .collect();
    let (users, created, added) = offsets.per_user();
    let rows = columns
        .bind_to(sqlx::query(WRITE_CREATES))
        .bind(&offsets.seq_back)
        .bind(&offsets.count_back)
        .bind(&occurred_at)
        .bind(&users)
        .bind(&created)
        .bind(&added)
        .fetch_all(connection)
        .await?;
    let positions = rows
        .iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .collect::<Result<Vec<(i64, i64)>, sqlx::Error>>();
    Ok(positions
        .map_err(repository_error)
        .and_then(|positions| answers(batch, &positions)))
}

/// Each write's answer from the rows' positions, in batch order.
fn answers(batch: &[Write], rows: &[(i64, i64)]) -> Result<Vec<Written>, RepositoryError> {
    let mut positions = rows
        .iter()
        .map(|&(seq, unread_count)| position_of(seq, unread_count));
    let mut next = || {
        positions.next().unwrap_or_else(|| {
            Err(RepositoryError::Corrupt(
                "the create statement returned fewer rows than it inserted".into(),
            ))
        })
    };
    batch
        .iter()
        .map(|write| match write {
            Write::CreateBatch { notifications, .. } => {
                let positions = notifications
                    .iter()
                    .map(|_| next())
                    .collect::<Result<_, _>>()?;
                Ok(Written::CreatedBatch(IdempotentBatchInsert::Inserted {
                    positions,
                }))
            }
            _ => next().map(Written::Created),
        })
        .collect()
}

/// Per create, what the same user's later creates of the batch add to the
/// seq and to the unread count; per user, what all of them add.
struct Offsets {
    seq_back: Vec<i64>,
    count_back: Vec<i64>,
    /// Ascending users: (creates, unread ones).
    totals: BTreeMap<Uuid, (i64, i64)>,
}

impl Offsets {
    fn of(notifications: &[&Notification]) -> Self {
        let mut totals: BTreeMap<Uuid, (i64, i64)> = BTreeMap::new();
        // Running sums per user, as of each create (itself included).
        let running: Vec<(i64, i64)> = notifications
            .iter()
            .map(|n| {
                let total = totals.entry(n.user_id().into_uuid()).or_default();
                total.0 += 1;
                total.1 += unread_weight(n.status());
                *total
            })
            .collect();
        let (seq_back, count_back) = notifications
            .iter()
            .zip(running)
            .map(|(n, (seqs, unread))| {
                let (all_seqs, all_unread) = totals
                    .get(&n.user_id().into_uuid())
                    .copied()
                    .unwrap_or_default();
                (all_seqs - seqs, all_unread - unread)
            })
            .unzip();
        Self {
            seq_back,
            count_back,
            totals,
        }
    }

    /// The users (ascending) and, per user, the creates and the unread ones.
    fn per_user(&self) -> (Vec<Uuid>, Vec<i64>, Vec<i64>) {
        let mut users = Vec::with_capacity(self.totals.len());
        let mut created = Vec::with_capacity(self.totals.len());
        let mut added = Vec::with_capacity(self.totals.len());
        for (user, (seqs, unread)) in &self.totals {
            users.push(*user);
            created.push(*seqs);
            added.push(*unread);
        }
        (users, created, added)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use notification_domain::{now, NotificationDraft, NotificationId, UserId};

    fn create(user: UserId) -> Notification {
        let draft = NotificationDraft::parse(user, "t", "m", None, None).unwrap();
        Notification::new(draft, NotificationId::new(), now())
    }

    fn users() -> (UserId, UserId) {
        (
            UserId::from_uuid(Uuid::new_v4()),
            UserId::from_uuid(Uuid::new_v4()),
        )
    }

    #[test]
    fn each_create_is_offset_by_the_later_creates_of_its_user() {
        let (a, b) = users();
        let batch = [create(a), create(b), create(a), create(a)];
        let refs: Vec<&Notification> = batch.iter().collect();
        let offsets = Offsets::of(&refs);
        assert_eq!(offsets.seq_back, [2, 0, 1, 0]);
        assert_eq!(offsets.count_back, [2, 0, 1, 0]);
        let (users, created, added) = offsets.per_user();
        let expected: BTreeMap<Uuid, (i64, i64)> =
            [(a.into_uuid(), (3, 3)), (b.into_uuid(), (1, 1))].into();
        assert_eq!(users, expected.keys().copied().collect::<Vec<_>>());
        assert_eq!(created, expected.values().map(|v| v.0).collect::<Vec<_>>());
        assert_eq!(added, expected.values().map(|v| v.1).collect::<Vec<_>>());
    }

    #[test]
    fn only_batches_of_creates_without_a_key_take_the_one_statement() {
        let (user, _) = users();
        let plain = vec![
            Write::Create(create(user)),
            Write::CreateBatch {
                notifications: vec![create(user), create(user)],
                claim: None,
            },
        ];
        assert_eq!(plain_creates(&plain).map(|n| n.len()), Some(3));
        let mixed = vec![
            Write::Create(create(user)),
            Write::ReadAll {
                user_id: user,
                read_at: now(),
            },
        ];
        assert!(plain_creates(&mixed).is_none());
    }

    #[test]
    fn answers_follow_the_batch_and_a_short_result_is_corrupt() {
        let (user, _) = users();
        let batch = vec![
            Write::CreateBatch {
                notifications: vec![create(user), create(user)],
                claim: None,
            },
            Write::Create(create(user)),
        ];
        let answers = answers(&batch, &[(1, 1), (2, 2), (3, 3)]).expect("three rows");
        assert!(matches!(
            &answers[0],
            Written::CreatedBatch(IdempotentBatchInsert::Inserted { positions })
                if positions.iter().map(|p| p.seq).collect::<Vec<_>>() == [1, 2]
        ));
        assert!(matches!(&answers[1], Written::Created(p) if p.seq == 3 && p.unread_count == 3));
        assert!(matches!(
            super::answers(&batch, &[(1, 1)]),
            Err(RepositoryError::Corrupt(_))
        ));
    }
}
