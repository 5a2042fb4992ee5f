//! The SageMaker response stream (`application/vnd.amazon.eventstream`), encoded with
//! `aws-smithy-eventstream` the way `InvokeEndpointWithResponseStream` sends it: each
//! `PayloadPart` event carries raw bytes (here one SSE chunk); a failure mid-stream is a
//! `ModelStreamError` exception message.

use aws_sdk_sagemakerruntime::primitives::event_stream::{Header, HeaderValue, Message};
use aws_smithy_eventstream::frame::write_message_to;
use bytes::Bytes;

/// Content type of the response stream.
pub(crate) const CONTENT_TYPE: &str = "application/vnd.amazon.eventstream";

/// Error code of a mid-stream model failure (SageMaker's `ModelStreamError.ErrorCode`).
pub(crate) const MODEL_STREAM_ERROR_CODE: &str = "ModelStreamError";

fn header(name: &'static str, value: &'static str) -> Header {
    Header::new(name, HeaderValue::String(value.into()))
}

fn encode(message: &Message) -> Bytes {
    let mut buffer = Vec::with_capacity(message.payload().len() + 128);
    // Writing into a Vec only fails for a message over the format's size limits (16 MiB),
    // which one SSE chunk never is; an empty frame would then fail the client's decoding.
    if write_message_to(message, &mut buffer).is_err() {
        buffer.clear();
    }
    Bytes::from(buffer)
}

/// A `PayloadPart` event carrying `bytes`.
pub(crate) fn payload_part(bytes: impl Into<Bytes>) -> Bytes {
    let message = Message::new(bytes.into())
        .add_header(header(":message-type", "event"))
        .add_header(header(":event-type", "PayloadPart"))
        .add_header(header(":content-type", "application/octet-stream"));
    encode(&message)
}

/// A `ModelStreamError` exception with SageMaker's JSON payload (`Message`, `ErrorCode`).
pub(crate) fn model_stream_error(message: &str) -> Bytes {
    let body = serde_json::json!({
        "Message": message,
        "ErrorCode": MODEL_STREAM_ERROR_CODE,
    });
    let message = Message::new(Bytes::from(body.to_string()))
        .add_header(header(":message-type", "exception"))
        .add_header(header(":exception-type", MODEL_STREAM_ERROR_CODE))
        .add_header(header(":content-type", "application/json"));
    encode(&message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_eventstream::frame::read_message_from;

    fn header_str<'a>(message: &'a Message, name: &str) -> Option<&'a str> {
        message
            .headers()
            .iter()
            .find(|h| h.name().as_str() == name)
            .and_then(|h| h.value().as_string().ok())
            .map(|s| s.as_str())
    }

    #[test]
    fn a_payload_part_decodes_with_its_headers_and_bytes() {
        let chunk = "data: {\"x\":1}\n\n";
        let frame = payload_part(chunk);
        let message = read_message_from(&frame[..]).expect("one message");
        assert_eq!(message.payload().as_ref(), chunk.as_bytes());
        assert_eq!(header_str(&message, ":message-type"), Some("event"));
        assert_eq!(header_str(&message, ":event-type"), Some("PayloadPart"));
        assert_eq!(
            header_str(&message, ":content-type"),
            Some("application/octet-stream")
        );
    }

    #[test]
    fn a_stream_error_is_an_exception_with_a_json_payload() {
        let frame = model_stream_error("boom");
        let message = read_message_from(&frame[..]).expect("one message");
        assert_eq!(header_str(&message, ":message-type"), Some("exception"));
        assert_eq!(
            header_str(&message, ":exception-type"),
            Some("ModelStreamError")
        );
        let body: serde_json::Value = serde_json::from_slice(message.payload()).expect("JSON");
        assert_eq!(body["Message"], "boom");
        assert_eq!(body["ErrorCode"], "ModelStreamError");
    }
}
