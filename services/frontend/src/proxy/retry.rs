//! When a call may be sent again. During a rolling upgrade a backend closes its kept-alive
//! connections; a call written on one just as it closes gets no answer at all. If the method is
//! idempotent and nothing of the answer arrived, sending it once more on a new connection is
//! safe (RFC 9110 §9.2.2) and turns a 502 into the answer.

use std::{error::Error as _, io};

use axum::http::Method;

/// GET, HEAD, PUT, DELETE and OPTIONS: sending them twice has the effect of sending them once.
pub fn is_idempotent(method: &Method) -> bool {
    [
        Method::GET,
        Method::HEAD,
        Method::PUT,
        Method::DELETE,
        Method::OPTIONS,
    ]
    .contains(method)
}

/// True when the connection closed, was reset or was refused before any byte of an answer
/// arrived; false for timeouts (the backend may still be working on it) and everything else.
pub fn connection_broke_before_answer(error: &reqwest::Error) -> bool {
    if error.is_timeout() {
        return false;
    }
    if error.is_connect() {
        return true;
    }
    let mut cause = error.source();
    while let Some(current) = cause {
        if let Some(hyper_error) = current.downcast_ref::<hyper::Error>()
            && (hyper_error.is_incomplete_message() || hyper_error.is_canceled())
        {
            return true;
        }
        if let Some(io_error) = current.downcast_ref::<io::Error>()
            && matches!(
                io_error.kind(),
                io::ErrorKind::ConnectionReset
                    | io::ErrorKind::ConnectionAborted
                    | io::ErrorKind::ConnectionRefused
                    | io::ErrorKind::BrokenPipe
                    | io::ErrorKind::UnexpectedEof
            )
        {
            return true;
        }
        cause = current.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_idempotent_methods_may_be_sent_twice() {
        for method in [
            Method::GET,
            Method::HEAD,
            Method::PUT,
            Method::DELETE,
            Method::OPTIONS,
        ] {
            assert!(is_idempotent(&method), "{method}");
        }
        for method in [Method::POST, Method::PATCH] {
            assert!(!is_idempotent(&method), "{method}");
        }
    }
}
