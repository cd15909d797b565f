//! Request bodies on their way to the backend, never more than `BODY_LIMIT_BYTES`: a declared
//! length over the limit is refused before anything is sent; otherwise the body is read whole
//! (calls that may be retried) or streamed with a running count that cuts it at the limit.
//! The backend has the same limit, so it never sees a body it would refuse half-way.

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use axum::{
    body::{Body, BodyDataStream},
    http::{HeaderMap, header},
};
use futures::StreamExt;
pub use todo_service_kit::body::{collect_limited, drain, drain_stream};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// True when `Content-Length` announces more than `limit` bytes.
pub fn declared_over(headers: &HeaderMap, limit: usize) -> bool {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok())
        .is_some_and(|length| length > limit as u64)
}

/// Whether a [`limited_stream`] was cut at its limit.
#[derive(Debug, Clone)]
pub struct Count(Arc<AtomicBool>);

impl Count {
    pub fn exceeded(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// The body as a stream for the backend that ends in an error, instead of the chunk that
/// would pass `limit` bytes; the [`Count`] then says it was cut. Before that error the rest of
/// the client's body is read and thrown away ([`drain_stream`]), so a client still sending
/// finishes and reads the 413 rather than a reset.
pub fn limited_stream(body: Body, limit: usize) -> (reqwest::Body, Count) {
    let exceeded = Arc::new(AtomicBool::new(false));
    let count = Count(exceeded.clone());
    let start = Reading {
        stream: body.into_data_stream(),
        seen: 0,
        done: false,
    };
    let stream = futures::stream::unfold(start, move |mut reading| {
        let exceeded = exceeded.clone();
        async move {
            if reading.done {
                return None;
            }
            let item = match reading.stream.next().await? {
                Err(error) => {
                    reading.done = true;
                    Err(BoxError::from(error))
                }
                Ok(chunk) => {
                    reading.seen = reading.seen.saturating_add(chunk.len());
                    if reading.seen > limit {
                        exceeded.store(true, Ordering::Relaxed);
                        drain_stream(&mut reading.stream).await;
                        reading.done = true;
                        Err(BoxError::from(format!(
                            "request body is larger than the limit of {limit} bytes"
                        )))
                    } else {
                        Ok(chunk)
                    }
                }
            };
            Some((item, reading))
        }
    });
    (reqwest::Body::wrap_stream(stream), count)
}

/// Where a [`limited_stream`] is in the client's body.
struct Reading {
    stream: BodyDataStream,
    seen: usize,
    done: bool,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use axum::{body::Bytes, http::HeaderValue};

    fn chunked(chunks: &[&'static [u8]]) -> Body {
        let chunks: Vec<Result<Bytes, std::io::Error>> =
            chunks.iter().map(|c| Ok(Bytes::from_static(c))).collect();
        Body::from_stream(futures::stream::iter(chunks))
    }

    #[test]
    fn only_a_declared_length_over_the_limit_is_refused_up_front() {
        let mut headers = HeaderMap::new();
        assert!(!declared_over(&headers, 10), "no length: decided later");
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("10"));
        assert!(!declared_over(&headers, 10));
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("11"));
        assert!(declared_over(&headers, 10));
    }

    #[tokio::test]
    async fn a_streamed_body_is_cut_before_the_chunk_that_passes_the_limit() {
        let (within, count) = limited_stream(chunked(&[b"hello", b"world"]), 10);
        let sent: Vec<_> = Body::new(within)
            .into_data_stream()
            .collect::<Vec<_>>()
            .await;
        assert!(sent.iter().all(Result::is_ok));
        assert!(!count.exceeded());

        let (over, count) = limited_stream(chunked(&[b"hello", b"world", b"!"]), 10);
        let sent: Vec<_> = Body::new(over).into_data_stream().collect::<Vec<_>>().await;
        assert_eq!(sent.len(), 3);
        assert!(sent[2].is_err(), "the third chunk becomes an error");
        assert!(count.exceeded());
    }
}
