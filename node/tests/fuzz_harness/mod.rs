//! What the node's fuzz targets (`node/fuzz`) and `tests/fuzz_props.rs` run on arbitrary
//! input: the decoders of text and bytes that come from other people — invite codes, device
//! codes, the sync protocol's length-prefixed frames, and blob requests and responses
//! (`/qun/blob/1`). Each must return a value or a typed
//! error, never panic, and what it accepts must encode back to an equivalent value.
#![allow(dead_code)]

use libp2p::request_response::Codec;
use qun_node::blobs::wire::{BlobRequest, BlobResponse};
use qun_node::device::DeviceCode;
use qun_node::invite::InviteCode;
use qun_node::net::codec::{BLOB_PROTOCOL, BlobCodec, SYNC_PROTOCOL, SyncCodec};

/// Largest sync frame the harness accepts (small, so inputs exercise the limit).
pub const MAX_FRAME: usize = 4096;

/// `InviteCode::decode` on any text; accepted codes round-trip.
pub fn invite(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(code) = InviteCode::decode(&text) {
        let again = InviteCode::decode(&code.encode()).expect("an encoded code decodes");
        assert_eq!(again, code);
        let _ = code.multiaddrs();
    }
}

/// `DeviceCode::decode` on any text; accepted codes round-trip.
pub fn device(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(code) = DeviceCode::decode(&text) {
        let again = DeviceCode::decode(&code.encode()).expect("an encoded code decodes");
        assert_eq!(again, code);
    }
}

/// One sync request read from a stream holding `data`: a frame no longer than the limit
/// that holds exactly the announced bytes, or an error.
pub fn sync_frame(data: &[u8]) {
    let mut codec = SyncCodec {
        max_bytes: MAX_FRAME,
    };
    let mut io = futures::io::Cursor::new(data.to_vec());
    let read = futures::executor::block_on(codec.read_request(&SYNC_PROTOCOL, &mut io));
    if let Ok(msg) = read {
        assert!(msg.len() <= MAX_FRAME);
        let len = u32::from_be_bytes(data[..4].try_into().expect("4 bytes")) as usize;
        assert_eq!(msg.len(), len);
        assert_eq!(&data[4..4 + len], msg.as_slice());
    }
}

/// Largest blob the harness accepts (small, so inputs exercise the limit).
pub const MAX_BLOB: u64 = 1024;

/// A blob request and a blob response read from a stream holding `data` (the codec's frame,
/// then the message): each is a value or an error; a response accepted holds at most
/// [`MAX_BLOB`] bytes, exactly as many as it declared, and both encode back to their bytes.
pub fn blob_frame(data: &[u8]) {
    if let Ok(req) = BlobRequest::decode(data) {
        assert_eq!(req.encode(), data);
    }
    if let Ok(resp) = BlobResponse::decode(data, MAX_BLOB) {
        if let BlobResponse::Found(b) = &resp {
            assert!(b.len() as u64 <= MAX_BLOB);
        }
        assert_eq!(resp.encode(), data);
    }
    let mut codec = BlobCodec {
        max_response: MAX_BLOB as usize + qun_node::blobs::wire::RESPONSE_OVERHEAD,
    };
    let mut io = futures::io::Cursor::new(data.to_vec());
    let read = futures::executor::block_on(codec.read_response(&BLOB_PROTOCOL, &mut io));
    if let Ok(frame) = read {
        assert!(frame.len() <= codec.max_response);
        if let Ok(BlobResponse::Found(b)) = BlobResponse::decode(&frame, MAX_BLOB) {
            assert!(b.len() as u64 <= MAX_BLOB);
        }
    }
    let mut io = futures::io::Cursor::new(data.to_vec());
    if let Ok(frame) = futures::executor::block_on(codec.read_request(&BLOB_PROTOCOL, &mut io)) {
        assert!(frame.len() <= qun_node::blobs::wire::REQUEST_LEN);
        let _ = BlobRequest::decode(&frame);
    }
}
