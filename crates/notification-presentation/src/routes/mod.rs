//! The REST API under `/api/v1` (contract §4), one file per endpoint or group:
//!
//! | route | file |
//! | --- | --- |
//! | `POST /notifications` | [`create`] (body rules in [`create_body`]) |
//! | `POST /notifications/batch` | [`create_batch`] (body rules in [`create_batch_body`]) |
//! | `GET /notifications` | [`list`] |
//! | `GET /notifications/unread-count` | [`unread_count`] |
//! | `POST /notifications/read-all` | [`read_all`] |
//! | `GET /notifications/{id}` | [`get`] |
//! | `POST /notifications/{id}/read` · `/unread` · `/archive` | [`status`] |
//! | `DELETE /notifications/{id}` | [`delete`] |
//! | `GET /changes` | [`changes`] |
//!
//! [`fallback`] answers unknown routes (404) and wrong methods (405) in the
//! contract's error shape.

pub mod changes;
pub mod create;
pub mod create_batch;
pub mod create_batch_body;
pub mod create_body;
pub mod delete;
pub mod fallback;
pub mod get;
pub mod list;
pub mod read_all;
pub mod status;
pub mod unread_count;

use actix_web::middleware::from_fn;
use actix_web::web;
use notification_domain::NotificationId;

use crate::cors;
use crate::error::ApiError;
use crate::websocket::AllowedOrigins;
use fallback::resource;

/// Registers every `/api/v1` route, behind CORS for `origins` (see [`cors`]).
///
/// The fixed paths `batch`, `read-all` and `unread-count` are separate resources
/// registered before `/{id}`, so they are never taken for an id (a wrong
/// method on them is a 405, not a 404 for a notification named "read-all").
pub fn api_v1(cfg: &mut web::ServiceConfig, origins: AllowedOrigins) {
    cfg.service(
        web::scope("/api/v1")
            // The last `wrap` runs first: the contract's answers around actix-cors.
            .wrap(cors::cors(origins))
            .wrap(from_fn(cors::contract_answers))
            .service(
                resource("/notifications", "GET, POST")
                    .route(web::get().to(list::list_notifications))
                    .route(web::post().to(create::create_notification)),
            )
            .service(
                resource("/notifications/batch", "POST")
                    .route(web::post().to(create_batch::create_batch)),
            )
            .service(
                resource("/notifications/unread-count", "GET")
                    .route(web::get().to(unread_count::unread_count)),
            )
            .service(
                resource("/notifications/read-all", "POST")
                    .route(web::post().to(read_all::read_all)),
            )
            .service(
                resource("/notifications/{id}", "GET, DELETE")
                    .route(web::get().to(get::get_notification))
                    .route(web::delete().to(delete::delete_notification)),
            )
            .service(
                resource("/notifications/{id}/read", "POST")
                    .route(web::post().to(status::mark_read)),
            )
            .service(
                resource("/notifications/{id}/unread", "POST")
                    .route(web::post().to(status::mark_unread)),
            )
            .service(
                resource("/notifications/{id}/archive", "POST")
                    .route(web::post().to(status::archive)),
            )
            .service(resource("/changes", "GET").route(web::get().to(changes::list_changes))),
    );
}

/// A path id. Anything that is not a UUID names no notification: 404, like
/// an id of another user's notification.
fn notification_id(raw: &str) -> Result<NotificationId, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::NotFound("notification not found"))
}
