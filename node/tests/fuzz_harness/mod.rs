//! What the node's fuzz targets (`node/fuzz`) and `tests/fuzz_props.rs` run on arbitrary
//! input: the decoders of text and bytes that come from other people — invite codes, device
//! codes, and the sync protocol's length-prefixed frames. Each must return a value or a typed
//! error, never panic, and what it accepts must encode back to an equivalent value.
#![allow(dead_code)]

use libp2p::request_response::Codec;
use qun_node::device::DeviceCode;
use qun_node::invite::InviteCode;
use qun_node::net::codec::{SYNC_PROTOCOL, SyncCodec};

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
