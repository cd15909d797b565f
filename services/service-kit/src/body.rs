//! Request bodies read under a size limit. A refused body is still read to its end (within a
//! bound) and thrown away before the answer: a client that writes its whole request before
//! reading the answer (simple clients do, and so does a proxy streaming an upload) then gets
//! the 413. Closing the connection under it instead resets it, and the client sees
//! "broken pipe" or "connection reset", never the 413.

use std::time::Duration;

use axum::body::{Body, BodyDataStream, Bytes};
use futures::StreamExt;

/// The most of a refused body that is read and thrown away, and for how long (see [`drain`]).
/// A client sending more than this, or slower, has its connection closed under it.
pub const DRAIN_LIMIT: usize = 16 * 1024 * 1024;
pub const DRAIN_TIME: Duration = Duration::from_secs(10);

/// Why a body was not read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BodyError {
    #[error("request body is larger than the limit of {limit} bytes")]
    TooLarge { limit: usize },
    #[error("the request body could not be read: {0}")]
    Unreadable(String),
}

/// The whole body, or [`BodyError::TooLarge`] once it passes `limit` bytes (then the rest is
/// [drained](drain) first, so the client reads the refusal).
pub async fn read_limited(body: Body, limit: usize) -> Result<Bytes, BodyError> {
    let mut stream = body.into_data_stream();
    let read = collect_limited(&mut stream, limit).await;
    if let Err(BodyError::TooLarge { .. }) = read {
        drain_stream(&mut stream).await;
    }
    read
}

/// [`read_limited`] without the drain: past `limit` the rest stays in `stream`, for the caller
/// to [drain](drain_stream) when it chooses (outside a deadline of its own, say).
pub async fn collect_limited(
    stream: &mut BodyDataStream,
    limit: usize,
) -> Result<Bytes, BodyError> {
    let mut collected = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|error| BodyError::Unreadable(error.to_string()))?;
        if collected.len() + chunk.len() > limit {
            return Err(BodyError::TooLarge { limit });
        }
        collected.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(collected))
}

/// Reads and discards a refused body: at most [`DRAIN_LIMIT`] bytes within [`DRAIN_TIME`].
pub async fn drain(body: Body) {
    drain_stream(&mut body.into_data_stream()).await;
}

/// [`drain`] for what is left of a body being read.
pub async fn drain_stream(stream: &mut BodyDataStream) {
    let mut seen = 0usize;
    let _ = tokio::time::timeout(DRAIN_TIME, async {
        while let Some(Ok(chunk)) = stream.next().await {
            seen = seen.saturating_add(chunk.len());
            if seen > DRAIN_LIMIT {
                break;
            }
        }
    })
    .await;
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    };

    use super::*;

    /// A body of `chunks`, counting how many of them were read.
    fn counted(chunks: &[&'static [u8]]) -> (Body, Arc<AtomicUsize>) {
        let read = Arc::new(AtomicUsize::new(0));
        let seen = read.clone();
        let stream = futures::stream::iter(chunks.to_vec()).map(move |chunk| {
            seen.fetch_add(1, Ordering::SeqCst);
            Ok::<_, std::io::Error>(Bytes::from_static(chunk))
        });
        (Body::from_stream(stream), read)
    }

    #[tokio::test]
    async fn a_body_within_the_limit_is_read_whole() {
        let (body, _) = counted(&[b"hello", b"world"]);
        assert_eq!(&read_limited(body, 10).await.unwrap()[..], b"helloworld");
    }

    #[tokio::test]
    async fn a_body_past_the_limit_is_refused_and_read_to_its_end() {
        let (body, read) = counted(&[b"hello", b"world", b"!", b"more", b"and more"]);
        assert_eq!(
            read_limited(body, 10).await,
            Err(BodyError::TooLarge { limit: 10 })
        );
        assert_eq!(read.load(Ordering::SeqCst), 5, "every chunk was read");
    }

    #[tokio::test]
    async fn a_broken_body_is_unreadable_not_too_large() {
        let stream = futures::stream::iter(vec![
            Ok(Bytes::from_static(b"half")),
            Err(std::io::Error::other("peer went away")),
        ]);
        let outcome = read_limited(Body::from_stream(stream), 10).await;
        assert!(
            matches!(&outcome, Err(BodyError::Unreadable(why)) if why.contains("peer went away")),
            "{outcome:?}"
        );
    }
}
