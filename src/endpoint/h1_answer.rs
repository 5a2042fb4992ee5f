//! Reading an HTTP/1.1 answer out of a connection's buffer: the head parsed in place
//! (httparse), then the body's framing (length, chunked, until close) followed byte for byte
//! so the body is counted without being kept. Pure functions over byte slices: the socket
//! side is in [`super::h1`].

use super::variants::VariantNames;
use crate::sample::{ErrorKind, Excerpt};

/// Most header lines an answer may have.
const MAX_HEADERS: usize = 64;

/// What an answer's head says, read once while the head is in the buffer (no strings kept).
#[derive(Debug)]
pub(crate) struct AnswerHead {
    /// Status code.
    pub status: u16,
    /// How the body is delimited.
    pub framing: Framing,
    /// Whether the connection may carry another request after this answer.
    pub keep_alive: bool,
    /// The production variant that answered, as an id of the target's names.
    pub variant: Option<u16>,
    /// The emulator marked the answer as a cold start.
    pub cold_start: bool,
    /// The class of an error status (with `x-amzn-errortype`); `None` for a success.
    pub error: Option<ErrorKind>,
    /// Where a redirect points, as the start of the failure's excerpt.
    pub excerpt: Excerpt,
}

/// A head was malformed: the reason, for the failure's excerpt.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Malformed(pub &'static str);

/// How an answer's body ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// No body (a `HEAD` request, 204, 304).
    Empty,
    /// `Content-Length` bytes.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked(Chunk),
    /// Until the server closes the connection.
    UntilClose,
}

/// Where a chunked body's decoder stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Chunk {
    /// Expecting a chunk-size line.
    Size,
    /// Inside a chunk's data, this many bytes left.
    Data(u64),
    /// Expecting the CRLF after a chunk's data (this many bytes of it left).
    DataEnd(u8),
    /// After the last chunk: trailer lines until an empty one.
    Trailers,
}

/// Parses the head at the start of `buf`: `Ok(None)` until it is complete, else the bytes
/// it took and what it says. 1xx interim answers are returned like any other; the caller
/// skips them.
pub(crate) fn parse_head(
    buf: &[u8],
    head_request: bool,
    variants: &VariantNames,
) -> Result<Option<(usize, AnswerHead)>, Malformed> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut headers);
    let taken = match response.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => return Err(Malformed("over 64 header lines")),
        Err(_) => return Err(Malformed("the answer is not HTTP/1.1")),
    };
    let status = response.code.unwrap_or(0);
    let mut head = AnswerHead {
        status,
        framing: Framing::UntilClose,
        keep_alive: response.version == Some(1),
        variant: None,
        cold_start: false,
        error: None,
        excerpt: Excerpt::default(),
    };
    let mut error_type = None;
    let (mut length, mut chunked) = (None, false);
    for header in response.headers.iter() {
        let (name, value) = (header.name, header.value);
        if name.eq_ignore_ascii_case("content-length") {
            let text = std::str::from_utf8(value).map_err(|_| Malformed("bad content-length"))?;
            length = Some(
                text.trim()
                    .parse::<u64>()
                    .map_err(|_| Malformed("bad content-length"))?,
            );
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = has_token(value, b"chunked");
        } else if name.eq_ignore_ascii_case("connection") {
            if has_token(value, b"close") {
                head.keep_alive = false;
            } else if has_token(value, b"keep-alive") {
                head.keep_alive = true;
            }
        } else if name.eq_ignore_ascii_case("x-amzn-invoked-production-variant") {
            head.variant = std::str::from_utf8(value).ok().map(|v| variants.id(v));
        } else if name.eq_ignore_ascii_case("x-emulator-cold-start-ms") {
            head.cold_start = true;
        } else if name.eq_ignore_ascii_case("x-amzn-errortype") {
            error_type = std::str::from_utf8(value).ok();
        } else if name.eq_ignore_ascii_case("location") && (300..400).contains(&status) {
            head.excerpt.push(b"Location: ");
            head.excerpt.push(value);
            head.excerpt.push(b" ");
        }
    }
    head.framing = if head_request || matches!(status, 100..=199 | 204 | 304) {
        Framing::Empty
    } else if chunked {
        Framing::Chunked(Chunk::Size)
    } else if let Some(n) = length {
        Framing::Length(n)
    } else {
        head.keep_alive = false;
        Framing::UntilClose
    };
    if !(200..300).contains(&status) {
        head.error = Some(ErrorKind::from_http(status, error_type));
    }
    Ok(Some((taken, head)))
}

/// Whether a comma-separated header value holds `token` (any case).
fn has_token(value: &[u8], token: &[u8]) -> bool {
    value
        .split(|b| *b == b',')
        .any(|t| t.trim_ascii().eq_ignore_ascii_case(token))
}

/// Follows a body through `data`: returns the bytes consumed and whether the body has ended;
/// `on_data` sees each piece of body (decoded from chunks). With `Ok((n, false))` and
/// `n < data.len()`, the rest is an incomplete chunk line: keep it and read more.
pub(crate) fn follow_body(
    framing: &mut Framing,
    data: &[u8],
    mut on_data: impl FnMut(&[u8]),
) -> Result<(usize, bool), Malformed> {
    match framing {
        Framing::Empty => Ok((0, true)),
        Framing::UntilClose => {
            on_data(data);
            Ok((data.len(), false))
        }
        Framing::Length(left) => {
            let take = (*left).min(data.len() as u64) as usize;
            on_data(&data[..take]);
            *left -= take as u64;
            Ok((take, *left == 0))
        }
        Framing::Chunked(state) => follow_chunks(state, data, on_data),
    }
}

/// The chunked decoder: sizes, data, the CRLF after each chunk, trailers.
fn follow_chunks(
    state: &mut Chunk,
    data: &[u8],
    mut on_data: impl FnMut(&[u8]),
) -> Result<(usize, bool), Malformed> {
    let mut at = 0;
    loop {
        let rest = &data[at..];
        match *state {
            Chunk::Size => match httparse::parse_chunk_size(rest) {
                Ok(httparse::Status::Complete((n, 0))) => {
                    at += n;
                    *state = Chunk::Trailers;
                }
                Ok(httparse::Status::Complete((n, size))) => {
                    at += n;
                    *state = Chunk::Data(size);
                }
                Ok(httparse::Status::Partial) => return Ok((at, false)),
                Err(_) => return Err(Malformed("bad chunk size")),
            },
            Chunk::Data(left) => {
                let take = left.min(rest.len() as u64) as usize;
                on_data(&rest[..take]);
                at += take;
                *state = match left - take as u64 {
                    0 => Chunk::DataEnd(2),
                    more => Chunk::Data(more),
                };
                if take == rest.len() {
                    return Ok((at, false));
                }
            }
            Chunk::DataEnd(left) => {
                let Some(&byte) = rest.first() else {
                    return Ok((at, false));
                };
                let expected = if left == 2 { b'\r' } else { b'\n' };
                if byte != expected {
                    return Err(Malformed("no CRLF after a chunk"));
                }
                at += 1;
                *state = if left == 2 {
                    Chunk::DataEnd(1)
                } else {
                    Chunk::Size
                };
            }
            Chunk::Trailers => {
                let Some(end) = rest.windows(2).position(|w| w == b"\r\n") else {
                    return Ok((at, false));
                };
                at += end + 2;
                if end == 0 {
                    return Ok((at, true));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(text: &str) -> (usize, AnswerHead) {
        parse_head(text.as_bytes(), false, &VariantNames::default())
            .unwrap()
            .unwrap()
    }

    /// Feeds `body` to the decoder `step` bytes at a time, as reads would deliver it, and
    /// returns the decoded body and whether it ended.
    fn decode(framing: Framing, body: &[u8], step: usize) -> (Vec<u8>, bool) {
        let (mut framing, mut out, mut pending) = (framing, Vec::new(), Vec::new());
        for piece in body.chunks(step) {
            pending.extend_from_slice(piece);
            let (used, done) =
                follow_body(&mut framing, &pending, |d| out.extend_from_slice(d)).unwrap();
            pending.drain(..used);
            if done {
                return (out, pending.is_empty());
            }
        }
        (out, false)
    }

    #[test]
    fn a_head_is_complete_only_with_its_blank_line() {
        let text = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
        let vars = VariantNames::default();
        assert!(
            parse_head(&text.as_bytes()[..20], false, &vars)
                .unwrap()
                .is_none()
        );
        let (taken, h) = head(text);
        assert_eq!(taken, text.len() - 2);
        assert_eq!(
            (h.status, h.framing, h.keep_alive),
            (200, Framing::Length(2), true)
        );
        assert_eq!(h.error, None);
    }

    #[test]
    fn the_head_names_variant_cold_start_error_class_and_redirect_target() {
        let vars = VariantNames::default();
        let text = "HTTP/1.1 200 OK\r\nX-Amzn-Invoked-Production-Variant: Canary\r\n\
                    x-emulator-cold-start-ms: 900\r\ncontent-length: 0\r\n\r\n";
        let (_, h) = parse_head(text.as_bytes(), false, &vars).unwrap().unwrap();
        assert_eq!((h.variant, h.cold_start), (Some(0), true));
        assert_eq!(vars.names(), vec!["Canary"]);
        let (_, h) = head(
            "HTTP/1.1 400 Bad\r\nx-amzn-errortype: ThrottlingException:x\r\nconnection: close\r\n\r\n",
        );
        assert_eq!(
            h.error,
            Some(ErrorKind::from_http(400, Some("ThrottlingException")))
        );
        assert!(!h.keep_alive, "connection: close");
        assert_eq!(h.framing, Framing::UntilClose);
        let (_, h) =
            head("HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\ncontent-length: 0\r\n\r\n");
        assert_eq!(h.error, Some(ErrorKind::Http3xx));
        assert_eq!(h.excerpt.text(), "Location: /elsewhere");
    }

    #[test]
    fn no_body_after_head_requests_204_304_and_interim_answers() {
        let vars = VariantNames::default();
        let text = b"HTTP/1.1 200 OK\r\ncontent-length: 99\r\n\r\n";
        let (_, h) = parse_head(text, true, &vars).unwrap().unwrap();
        assert_eq!(h.framing, Framing::Empty);
        for status in ["204 No Content", "304 Not Modified", "100 Continue"] {
            let (_, h) = head(&format!("HTTP/1.1 {status}\r\n\r\n"));
            assert_eq!(h.framing, Framing::Empty, "{status}");
        }
        let (_, h) = head("HTTP/1.0 200 OK\r\ncontent-length: 1\r\n\r\n");
        assert!(!h.keep_alive, "HTTP/1.0 closes unless asked");
    }

    #[test]
    fn malformed_heads_are_errors_not_panics() {
        let vars = VariantNames::default();
        for text in [
            &b"SSH-2.0-OpenSSH\r\n\r\n"[..],
            b"HTTP/1.1 200 OK\r\ncontent-length: x\r\n\r\n",
        ] {
            assert!(parse_head(text, false, &vars).is_err());
        }
    }

    #[test]
    fn a_length_body_ends_at_its_length_and_leaves_what_follows() {
        let (out, _) = decode(Framing::Length(5), b"hello", 2);
        assert_eq!(out, b"hello");
        let mut framing = Framing::Length(3);
        let (used, done) = follow_body(&mut framing, b"abcdef", |_| {}).unwrap();
        assert_eq!((used, done), (3, true));
    }

    #[test]
    fn chunked_bodies_decode_whatever_the_read_boundaries() {
        let body =
            b"4\r\nWiki\r\n6;ext=1\r\npedia \r\nE\r\nin \r\n\r\nchunks.\r\n0\r\nx-t: 1\r\n\r\n";
        for step in [1, 2, 3, 7, body.len()] {
            let (out, clean) = decode(Framing::Chunked(Chunk::Size), body, step);
            assert_eq!(out, b"Wikipedia in \r\n\r\nchunks.", "step {step}");
            assert!(clean, "step {step}: nothing left over");
        }
        let mut framing = Framing::Chunked(Chunk::Size);
        assert!(follow_body(&mut framing, b"2\r\nabX", |_| {}).is_err());
    }
}
