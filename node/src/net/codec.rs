//! The request-response codecs of the sync protocol `/qun/sync/1`, of the direct-message
//! protocol `/qun/dm/1` (see `crate::runtime::dm`; the same codec) and of blob transfer
//! `/qun/blob/1` ([`BlobCodec`]): one length-prefixed message each way (4-byte big-endian
//! length, then the bytes), refused before reading when the length exceeds the limit.

use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::StreamProtocol;
use libp2p::request_response::Codec;
use std::io;

/// Protocol id of qun sync.
pub const SYNC_PROTOCOL: StreamProtocol = StreamProtocol::new("/qun/sync/1");

/// Protocol id of qun direct messages: bundles, delivery and the mailbox.
pub const DM_PROTOCOL: StreamProtocol = StreamProtocol::new("/qun/dm/1");

/// Length-prefixed byte messages with a size limit.
#[derive(Clone, Debug)]
pub struct SyncCodec {
    /// Largest message, bytes.
    pub max_bytes: usize,
}

pub(crate) async fn read_msg<T: AsyncRead + Unpin + Send>(
    io: &mut T,
    max: usize,
) -> io::Result<Vec<u8>> {
    let mut len = [0u8; 4];
    io.read_exact(&mut len).await?;
    let len = u32::from_be_bytes(len) as usize;
    if len > max {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("sync message of {len} bytes exceeds {max}"),
        ));
    }
    let mut buf = vec![0u8; len];
    io.read_exact(&mut buf).await?;
    Ok(buf)
}

pub(crate) async fn write_msg<T: AsyncWrite + Unpin + Send>(
    io: &mut T,
    msg: &[u8],
    max: usize,
) -> io::Result<()> {
    if msg.len() > max {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "sync message too large",
        ));
    }
    io.write_all(&(msg.len() as u32).to_be_bytes()).await?;
    io.write_all(msg).await?;
    io.close().await
}

impl Codec for SyncCodec {
    type Protocol = StreamProtocol;
    type Request = Vec<u8>;
    type Response = Vec<u8>;

    async fn read_request<T: AsyncRead + Unpin + Send>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
    ) -> io::Result<Vec<u8>> {
        read_msg(io, self.max_bytes).await
    }

    async fn read_response<T: AsyncRead + Unpin + Send>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
    ) -> io::Result<Vec<u8>> {
        read_msg(io, self.max_bytes).await
    }

    async fn write_request<T: AsyncWrite + Unpin + Send>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        req: Vec<u8>,
    ) -> io::Result<()> {
        write_msg(io, &req, self.max_bytes).await
    }

    async fn write_response<T: AsyncWrite + Unpin + Send>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        res: Vec<u8>,
    ) -> io::Result<()> {
        write_msg(io, &res, self.max_bytes).await
    }
}

/// Protocol id of blob transfer (see `crate::blobs::wire`).
pub const BLOB_PROTOCOL: StreamProtocol = StreamProtocol::new("/qun/blob/1");

/// `/qun/blob/1`: one length-prefixed message each way, as [`SyncCodec`]; requests are tiny,
/// responses at most one blob and its header. The length is checked before anything is read.
#[derive(Clone, Debug)]
pub struct BlobCodec {
    /// Largest response, bytes (the largest blob plus its header).
    pub max_response: usize,
}

impl Codec for BlobCodec {
    type Protocol = StreamProtocol;
    type Request = Vec<u8>;
    type Response = Vec<u8>;

    async fn read_request<T: AsyncRead + Unpin + Send>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
    ) -> io::Result<Vec<u8>> {
        read_msg(io, crate::blobs::wire::REQUEST_LEN).await
    }

    async fn read_response<T: AsyncRead + Unpin + Send>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
    ) -> io::Result<Vec<u8>> {
        read_msg(io, self.max_response).await
    }

    async fn write_request<T: AsyncWrite + Unpin + Send>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        req: Vec<u8>,
    ) -> io::Result<()> {
        write_msg(io, &req, crate::blobs::wire::REQUEST_LEN).await
    }

    async fn write_response<T: AsyncWrite + Unpin + Send>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        res: Vec<u8>,
    ) -> io::Result<()> {
        write_msg(io, &res, self.max_response).await
    }
}
