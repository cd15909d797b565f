//! What the two services share to run as services, written once: the shutdown signal and the
//! drain that precedes the graceful shutdown (`shutdown`), request bodies read under a size
//! limit, refused ones drained so the client reads the 413 (`body`), logging (`logging`), the
//! Prometheus recorder behind `/metrics` (`metrics`), the TLS provider (`tls`), and the
//! healthcheck client of the images (`healthcheck`).

pub mod body;
pub mod healthcheck;
pub mod logging;
pub mod metrics;
pub mod shutdown;
pub mod tls;
