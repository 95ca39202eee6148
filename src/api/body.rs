//! Reading request bodies: decoded as a stream in bounded pieces, cut off when the client
//! goes quiet or takes too long, refused past a size limit.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::dev;
use actix_web::error::PayloadError;
use actix_web::http::header;
use actix_web::web::{self, Bytes};
use actix_web::HttpRequest;
use async_compression::tokio::bufread::{GzipDecoder, ZlibDecoder};
use futures_util::stream::{LocalBoxStream, Stream, StreamExt};
use tokio::sync::mpsc;
use tokio::time::{sleep, Instant, Sleep};
use tokio_util::io::{ReaderStream, StreamReader};

use super::problem::ApiError;
use super::{AppState, Limits};

/// The most a decoder yields at once, so that memory follows the limit, not the ratio.
const PIECE: usize = 64 * 1024;

/// A request body as it arrives: decoded as its `Content-Encoding` says, and ended with an
/// error when the client sends nothing for the idle timeout (from the first byte on), sends
/// less than the least rate, or has not finished by the upload time limit. Only time spent
/// waiting on the client counts towards the first two: a server busy with what it was sent
/// is not the client's slowness.
pub struct Body {
    pieces: LocalBoxStream<'static, io::Result<Bytes>>,
    limits: Limits,
    timer: Pin<Box<Sleep>>,
    /// When the upload must have ended.
    deadline: Instant,
    /// Since when the body has been waited on (none while the server is busy elsewhere).
    waiting: Option<Instant>,
    /// The rate window: time spent waiting in it, and the bytes that came.
    waited: Duration,
    came: u64,
    ended: bool,
}

/// Why a body could not be read.
#[derive(Debug)]
pub enum BodyError {
    Idle(Duration),
    /// Fewer than `bytes` came while it was waited on for `window`.
    Slow {
        bytes: u64,
        window: Duration,
    },
    /// The upload had not ended within the time limit.
    Late(Duration),
    Broken(io::Error),
}

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BodyError::Idle(idle) => {
                write!(f, "the body sent nothing for {} s", idle.as_secs_f64())
            }
            BodyError::Slow { bytes, window } => write!(
                f,
                "the body came slower than {bytes} bytes in {} s (`limits.body_min_bytes` per `limits.body_rate_window_seconds`)",
                window.as_secs_f64()
            ),
            BodyError::Late(limit) => write!(
                f,
                "the upload did not end within {} s (`limits.upload_timeout_seconds`)",
                limit.as_secs_f64()
            ),
            BodyError::Broken(e) => write!(f, "the body could not be read: {e}"),
        }
    }
}

impl From<BodyError> for ApiError {
    fn from(error: BodyError) -> ApiError {
        match error {
            BodyError::Broken(_) => ApiError::BadRequest(error.to_string()),
            _ => ApiError::RequestTimeout(error.to_string()),
        }
    }
}

/// How the body is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Identity,
    Gzip,
    Deflate,
}

/// The body's one `Content-Encoding`; any other is 415 rather than read as something else.
fn encoding(request: &HttpRequest) -> Result<Encoding, ApiError> {
    let values: Vec<_> = request
        .headers()
        .get_all(header::CONTENT_ENCODING)
        .collect();
    let value = match values.as_slice() {
        [] => return Ok(Encoding::Identity),
        [one] => one.to_str().unwrap_or("").trim().to_ascii_lowercase(),
        _ => String::from(","),
    };
    match value.as_str() {
        "" | "identity" => Ok(Encoding::Identity),
        "gzip" | "x-gzip" => Ok(Encoding::Gzip),
        "deflate" => Ok(Encoding::Deflate),
        other => Err(ApiError::UnsupportedMediaType(format!(
            "Content-Encoding `{other}` is not supported; send gzip, deflate or identity (one coding)"
        ))),
    }
}

impl Body {
    pub fn new(
        request: &HttpRequest,
        payload: dev::Payload,
        limits: &Limits,
    ) -> Result<Body, ApiError> {
        let raw = payload.map(|piece| piece.map_err(|e| io::Error::other(e.to_string())));
        let pieces = match encoding(request)? {
            Encoding::Identity => raw.boxed_local(),
            Encoding::Gzip => {
                let mut decoder = GzipDecoder::new(StreamReader::new(raw));
                decoder.multiple_members(true);
                ReaderStream::with_capacity(decoder, PIECE).boxed_local()
            }
            Encoding::Deflate => {
                ReaderStream::with_capacity(ZlibDecoder::new(StreamReader::new(raw)), PIECE)
                    .boxed_local()
            }
        };
        Ok(Body {
            pieces,
            limits: *limits,
            timer: Box::pin(sleep(limits.body_idle_timeout)),
            deadline: Instant::now() + limits.upload_timeout,
            waiting: None,
            waited: Duration::ZERO,
            came: 0,
            ended: false,
        })
    }

    /// When the wait that starts at `now` ends: the client idle, the rate window over, or
    /// the upload's time up, whichever comes first.
    fn next_deadline(&self, now: Instant) -> Instant {
        let window = self.limits.body_rate_window.saturating_sub(self.waited);
        (now + self.limits.body_idle_timeout)
            .min(now + window)
            .min(self.deadline)
    }

    /// Counts a wait that ended at `now` with `bytes` more: past the window, the bytes it
    /// brought must reach the least rate.
    fn count(&mut self, now: Instant, bytes: usize) -> Result<(), BodyError> {
        if let Some(since) = self.waiting.take() {
            self.waited += now - since;
        }
        self.came += bytes as u64;
        if now >= self.deadline {
            return Err(BodyError::Late(self.limits.upload_timeout));
        }
        if self.waited >= self.limits.body_rate_window {
            if self.came < self.limits.body_min_bytes {
                return Err(BodyError::Slow {
                    bytes: self.limits.body_min_bytes,
                    window: self.limits.body_rate_window,
                });
            }
            (self.waited, self.came) = (Duration::ZERO, 0);
        }
        Ok(())
    }

    /// The body as a payload stream, for readers such as multipart that take one; a quiet
    /// client is a `TimedOut` I/O error there.
    pub fn into_payload(self) -> impl Stream<Item = Result<Bytes, PayloadError>> {
        self.map(|piece| {
            piece.map_err(|e| match e {
                BodyError::Broken(e) => PayloadError::Io(e),
                slow => PayloadError::Io(io::Error::new(io::ErrorKind::TimedOut, slow.to_string())),
            })
        })
    }
}

impl Stream for Body {
    type Item = Result<Bytes, BodyError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.ended {
            return Poll::Ready(None);
        }
        loop {
            if this.waiting.is_none() {
                let now = Instant::now();
                this.waiting = Some(now);
                let deadline = this.next_deadline(now);
                this.timer.as_mut().reset(deadline);
            }
            let since = this.waiting.unwrap_or_else(Instant::now);
            let outcome = match this.pieces.as_mut().poll_next(cx) {
                Poll::Ready(Some(Ok(piece))) => {
                    this.count(Instant::now(), piece.len()).map(|()| piece)
                }
                Poll::Ready(Some(Err(e))) => Err(BodyError::Broken(e)),
                Poll::Ready(None) => {
                    this.ended = true;
                    return Poll::Ready(None);
                }
                Poll::Pending => match this.timer.as_mut().poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(()) => {
                        let now = Instant::now();
                        if now - since >= this.limits.body_idle_timeout {
                            Err(BodyError::Idle(this.limits.body_idle_timeout))
                        } else {
                            // The window or the upload's time is over: judged as if a piece
                            // of nothing had come now, then waited on afresh.
                            match this.count(now, 0) {
                                Ok(()) => continue,
                                Err(error) => Err(error),
                            }
                        }
                    }
                },
            };
            if outcome.is_err() {
                this.ended = true;
            }
            return Poll::Ready(Some(outcome));
        }
    }
}

/// A stream's pieces for a blocking thread (where the streaming loop runs): a task on this
/// thread's runtime reads the stream into a small channel, and the iterator waits on it. The
/// stream is read no faster than the iterator takes pieces (so a busy server never counts as
/// an idle client), and is let go when the iterator is dropped or the stream fails.
pub struct Blocking(mpsc::Receiver<Result<Bytes, ApiError>>);

impl Blocking {
    pub fn pump<E: Into<ApiError>>(
        stream: impl Stream<Item = Result<Bytes, E>> + 'static,
    ) -> Blocking {
        let (tx, rx) = mpsc::channel(8);
        actix_web::rt::spawn(async move {
            let mut stream = std::pin::pin!(stream);
            while let Some(piece) = stream.next().await {
                let piece = piece.map_err(Into::into);
                let failed = piece.is_err();
                if tx.send(piece).await.is_err() || failed {
                    break;
                }
            }
        });
        Blocking(rx)
    }
}

impl Iterator for Blocking {
    type Item = Result<Bytes, ApiError>;

    /// Waits for the next piece; only ever call it on a blocking thread.
    fn next(&mut self) -> Option<Self::Item> {
        self.0.blocking_recv()
    }
}

/// The request's `Content-Type`, or `""`.
pub fn content_type(request: &HttpRequest) -> &str {
    request
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// Collects the body, refusing it as soon as it passes `limit` bytes (after decoding, so a
/// small compressed body cannot expand without bound), and ending it when the client is
/// idle or the whole has not arrived within the configured read time.
pub async fn read_body(
    request: &HttpRequest,
    payload: web::Payload,
    limit: usize,
    state: &AppState,
) -> Result<web::BytesMut, ApiError> {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    let mut body = Body::new(request, payload.into_inner(), &state.limits)?;
    let read_timeout = state.limits.body_read_timeout;
    let collect = async move {
        let mut bytes = web::BytesMut::with_capacity(declared.unwrap_or(1024).min(limit));
        while let Some(piece) = body.next().await {
            let piece = piece?;
            if bytes.len() + piece.len() > limit {
                return Err(ApiError::PayloadTooLarge { limit });
            }
            bytes.extend_from_slice(&piece);
        }
        Ok(bytes)
    };
    tokio::time::timeout(read_timeout, collect)
        .await
        .map_err(|_| {
            ApiError::RequestTimeout(format!(
                "the body did not arrive within {} s",
                read_timeout.as_secs_f64()
            ))
        })?
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use actix_web::test::TestRequest;

    const TEST_LIMITS: Limits = Limits {
        body_limit_bytes: 1 << 20,
        body_idle_timeout: Duration::from_secs(5),
        body_read_timeout: Duration::from_secs(5),
        body_min_bytes: 1,
        body_rate_window: Duration::from_secs(5),
        upload_timeout: Duration::from_secs(60),
        max_listed_errors: 100,
    };

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    fn body(encoding: &str, data: Vec<u8>) -> Result<Body, ApiError> {
        let (request, payload) = TestRequest::default()
            .insert_header(("content-encoding", encoding))
            .set_payload(data)
            .to_http_parts();
        Body::new(&request, payload, &TEST_LIMITS)
    }

    #[actix_web::test]
    async fn a_compressed_body_expands_a_piece_at_a_time() {
        let bomb = gzip(&vec![b'0'; 8 * 1024 * 1024]);
        let mut body = body("gzip", bomb).unwrap();
        let (mut pieces, mut total) = (0, 0);
        while let Some(piece) = body.next().await {
            let piece = piece.unwrap();
            assert!(piece.len() <= PIECE, "a piece of {} bytes", piece.len());
            pieces += 1;
            total += piece.len();
        }
        assert_eq!(total, 8 * 1024 * 1024);
        assert!(pieces >= 128);
    }

    #[actix_web::test]
    async fn gzip_members_and_deflate_are_read_and_other_codings_refused() {
        let mut two = gzip(b"ab");
        two.extend(gzip(b"cd"));
        let mut read = Vec::new();
        let mut members = body("GZip", two).unwrap();
        while let Some(piece) = members.next().await {
            read.extend_from_slice(&piece.unwrap());
        }
        assert_eq!(read, b"abcd");

        let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        zlib.write_all(b"plain").unwrap();
        let mut inflated = body("deflate", zlib.finish().unwrap()).unwrap();
        assert_eq!(&inflated.next().await.unwrap().unwrap()[..], b"plain");

        for coding in ["br", "zstd", "foo", "gzip, gzip", "compress"] {
            assert!(
                matches!(body_err(coding), ApiError::UnsupportedMediaType(_)),
                "{coding}"
            );
        }
    }

    fn body_err(encoding: &str) -> ApiError {
        body(encoding, Vec::new()).err().unwrap()
    }

    #[actix_web::test]
    async fn a_corrupt_gzip_body_is_a_bad_request() {
        let mut body = body("gzip", b"not gzip at all".to_vec()).unwrap();
        let error = body.next().await.unwrap().unwrap_err();
        assert!(matches!(ApiError::from(error), ApiError::BadRequest(_)));
    }
}
