//! What the two services share to run as services, written once: the shutdown signal and the
//! drain that precedes the graceful shutdown (`shutdown`).

pub mod shutdown;
