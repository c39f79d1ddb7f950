use std::{cell::Cell, pin::pin};

use futures_core::Stream as _;

use actix_service::fn_service;
use tokio::io::ReadBuf;

use super::*;
use crate::{
    config::ServiceConfigBuilder,
    h1::{ExpectHandler, UpgradeHandler},
    test::TestBuffer,
};

/// Stops accepting writes after a shared byte budget is exhausted.
///
/// The test can restore the budget and poll the dispatcher again, as if the socket became writable.
struct LimitedWriter {
    io: TestBuffer,
    allowance: Rc<Cell<usize>>,
}

impl AsyncRead for LimitedWriter {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl AsyncWrite for LimitedWriter {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let len = buf.len().min(self.allowance.get());

        if len == 0 {
            // The test polls manually after restoring the budget, so no wakeup is needed.
            return Poll::Pending;
        }

        let written = ready!(Pin::new(&mut self.io).poll_write(cx, &buf[..len]))?;
        self.allowance.set(self.allowance.get() - written);
        Poll::Ready(Ok(written))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

/// Checks buffer retention and complete responses on a persistent HTTP/1 connection.
///
/// - `body_len`: Response body length in bytes, sent as one chunk for each request.
/// - `threshold`: Configured HTTP/1 write-buffer watermark in bytes. The retention limit is
///   the larger of this value and `WRITE_BUFFER_RETENTION_LIMIT`.
/// - `partial`: If true, block writes after `body_len - 1024` bytes, including headers,
///   then resume them. Requires `body_len > 1024`.
/// - `release`: If true, expect the drained buffer to retain at most `HW_BUFFER_SIZE` bytes.
///   Otherwise, expect sufficient capacity for the body and reuse of the buffer on the next request.
async fn check_buffer_retention(body_len: usize, threshold: usize, partial: bool, release: bool) {
    let mut io = TestBuffer::new("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
    // The budget includes response headers. Leave a small unwritten tail so
    // advancing past the written bytes hides most of the original buffer capacity.
    let allowance = Rc::new(Cell::new(if partial {
        body_len - 1024
    } else {
        usize::MAX
    }));
    let services = HttpFlow::new(
        fn_service(move |_: Request| async move {
            // A single body chunk forces the output buffer to hold the large response.
            Ok::<_, Error>(Response::ok().set_body(bytes::Bytes::from(vec![b'x'; body_len])))
        }),
        ExpectHandler,
        None::<UpgradeHandler>,
    );
    let dispatcher = Dispatcher::new(
        LimitedWriter {
            io: io.clone(),
            allowance: allowance.clone(),
        },
        services,
        // This sets the body-polling watermark. The retention limit is the larger
        // of this value and WRITE_BUFFER_RETENTION_LIMIT.
        ServiceConfigBuilder::new()
            .h1_write_buffer_size(threshold)
            .build(),
        None,
        OnConnectData::default(),
    );
    let mut dispatcher = pin!(dispatcher);
    let mut cx = Context::from_waker(futures_util::task::noop_waker_ref());

    // Pending is expected even after a complete response: the keep-alive
    // connection stays open and waits for another request.
    assert!(dispatcher.as_mut().poll(&mut cx).is_pending());

    if partial {
        let DispatcherState::Normal { inner } = &dispatcher.inner else {
            panic!()
        };
        assert!(!inner.write_buf.is_empty());
        assert_eq!(io.write_buf_slice().len(), body_len - 1024);

        // Let the dispatcher finish the same response after the simulated blocked write.
        allowance.set(usize::MAX);
        assert!(dispatcher.as_mut().poll(&mut cx).is_pending());
    }

    // try_reclaim does not allocate. If the old backing allocation survived,
    // reclaiming its consumed prefix exposes the large capacity to the assertion below.
    // Checking only the visible tail could otherwise let the partial-write regression pass.
    if release {
        let DispatcherStateProj::Normal { inner } = dispatcher.as_mut().project().inner.project()
        else {
            panic!()
        };
        assert!(inner.project().write_buf.try_reclaim(HW_BUFFER_SIZE));
    }

    let DispatcherState::Normal { inner } = &dispatcher.inner else {
        panic!()
    };
    assert!(inner.write_buf.is_empty());

    if release {
        assert!(
            inner.write_buf.capacity() <= HW_BUFFER_SIZE,
            "drained buffer retained {} bytes",
            inner.write_buf.capacity()
        );
    } else {
        assert!(inner.write_buf.capacity() >= body_len);
    }

    let pointer = inner.write_buf.as_ptr();
    let response = io.take_write_buf();
    // Compare the complete body separately from the generated HTTP headers.
    // A smaller retained buffer must not come at the cost of missing response bytes.
    let body_start = response
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .unwrap()
        + 4;
    assert_eq!(&response[body_start..], vec![b'x'; body_len]);

    // The connection must remain usable, including after a partial write.
    io.extend_read_buf("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
    assert!(dispatcher.as_mut().poll(&mut cx).is_pending());
    let second_response = io.take_write_buf();
    let second_body_start = second_response
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .unwrap()
        + 4;
    assert_eq!(
        &second_response[second_body_start..],
        &response[body_start..]
    );

    if !release {
        // Check reuse across requests, not just sufficient capacity after each flush.
        let DispatcherState::Normal { inner } = &dispatcher.inner else {
            panic!()
        };
        assert_eq!(
            inner.write_buf.as_ptr(),
            pointer,
            "normal buffers should be reused"
        );
    }
}

#[actix_rt::test]
async fn oversized_write_buffer_released_after_flush() {
    check_buffer_retention(1024 * 1024, 32 * 1024, false, true).await;
}

#[actix_rt::test]
async fn oversized_write_buffer_released_after_partial_write() {
    check_buffer_retention(1024 * 1024, 32 * 1024, true, true).await;
}

#[actix_rt::test]
async fn normal_write_buffer_reused_after_flush() {
    check_buffer_retention(1024, 32 * 1024, false, false).await;
}

#[actix_rt::test]
async fn configured_write_buffer_reused_after_flush() {
    // A custom watermark above 128 KiB also raises the retention limit.
    check_buffer_retention(256 * 1024, 1024 * 1024, false, false).await;
}

#[actix_rt::test]
async fn small_write_watermark_preserves_normal_buffer() {
    // A small watermark must not lower the 128 KiB retention limit.
    check_buffer_retention(64 * 1024, 8 * 1024, false, false).await;
}

#[actix_rt::test]
async fn buffer_above_configured_write_watermark_released() {
    // A larger watermark sets the limit directly; it is not multiplied by four.
    check_buffer_retention(512 * 1024, 256 * 1024, false, true).await;
}

/// Queue of response body chunks pushed by a test: `Some` is a chunk, `None` ends the body, an
/// empty queue leaves the body pending (a stream waiting for its next message).
type PushedChunks = Rc<std::cell::RefCell<VecDeque<Option<bytes::Bytes>>>>;

fn pushed_body(
    chunks: PushedChunks,
) -> crate::body::BodyStream<impl futures_core::Stream<Item = Result<bytes::Bytes, io::Error>>> {
    crate::body::BodyStream::new(futures_util::stream::poll_fn(move |_| {
        match chunks.borrow_mut().pop_front() {
            Some(Some(chunk)) => Poll::Ready(Some(Ok(chunk))),
            Some(None) => Poll::Ready(None),
            None => Poll::Pending,
        }
    }))
}

/// Read and write buffer capacities of a dispatcher in its normal state.
fn buffer_capacities<T, S, B, X, U>(dispatcher: &Dispatcher<T, S, B, X, U>) -> (usize, usize)
where
    S: Service<Request>,
    S::Error: Into<Response<BoxBody>>,
    B: MessageBody,
    X: Service<Request, Response = Request>,
    X::Error: Into<Response<BoxBody>>,
    U: Service<(Request, Framed<T, Codec>), Response = ()>,
    U::Error: fmt::Display,
{
    let DispatcherState::Normal { inner } = &dispatcher.inner else {
        panic!("dispatcher was upgraded")
    };
    (inner.read_buf.capacity(), inner.write_buf.capacity())
}

#[actix_rt::test]
async fn idle_streaming_response_releases_both_buffers() {
    let mut io = TestBuffer::new("GET /events HTTP/1.1\r\nHost: localhost\r\n\r\n");
    let chunks = PushedChunks::default();
    let body_chunks = chunks.clone();
    let services = HttpFlow::new(
        fn_service(move |_: Request| {
            let body = pushed_body(body_chunks.clone());
            async move { Ok::<_, Error>(Response::ok().set_body(body)) }
        }),
        ExpectHandler,
        None::<UpgradeHandler>,
    );
    let dispatcher = Dispatcher::new(
        io.clone(),
        services,
        ServiceConfig::default(),
        None,
        OnConnectData::default(),
    );
    let mut dispatcher = pin!(dispatcher);
    let mut cx = Context::from_waker(futures_util::task::noop_waker_ref());

    // Head sent, body waiting for its first chunk: nothing is buffered, nothing is kept.
    assert!(dispatcher.as_mut().poll(&mut cx).is_pending());
    assert!(io.take_write_buf().starts_with(b"HTTP/1.1 200 OK\r\n"));
    assert_eq!(buffer_capacities(&dispatcher), (0, 0));

    // A chunk is written through a buffer that grows back, then released again.
    chunks
        .borrow_mut()
        .push_back(Some(bytes::Bytes::from_static(b"event one")));
    assert!(dispatcher.as_mut().poll(&mut cx).is_pending());
    assert_eq!(&io.take_write_buf()[..], b"9\r\nevent one\r\n");
    assert_eq!(buffer_capacities(&dispatcher), (0, 0));

    // The read buffer grows back too: a pipelined request is read and queued while streaming.
    io.extend_read_buf("GET /next HTTP/1.1\r\nHost: localhost\r\n\r\n");
    assert!(dispatcher.as_mut().poll(&mut cx).is_pending());
    {
        let DispatcherState::Normal { inner } = &dispatcher.inner else {
            panic!("dispatcher was upgraded")
        };
        assert_eq!(inner.messages.len(), 1);
    }
    assert_eq!(buffer_capacities(&dispatcher), (0, 0));

    // Ending the stream serves the queued request on the same connection.
    chunks.borrow_mut().push_back(None);
    assert!(dispatcher.as_mut().poll(&mut cx).is_pending());
    let written = io.take_write_buf();
    assert!(
        written.starts_with(b"0\r\n\r\nHTTP/1.1 200 OK\r\n"),
        "{written:?}"
    );
}

#[actix_rt::test]
async fn keep_alive_connection_keeps_buffers_between_requests() {
    let io = TestBuffer::new("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
    let services = HttpFlow::new(
        fn_service(|_: Request| async { Ok::<_, Error>(Response::ok().set_body("done")) }),
        ExpectHandler,
        None::<UpgradeHandler>,
    );
    let dispatcher = Dispatcher::new(
        io.clone(),
        services,
        ServiceConfig::default(),
        None,
        OnConnectData::default(),
    );
    let mut dispatcher = pin!(dispatcher);
    let mut cx = Context::from_waker(futures_util::task::noop_waker_ref());

    assert!(dispatcher.as_mut().poll(&mut cx).is_pending());
    assert!(io.take_write_buf().ends_with(b"\r\n\r\ndone"));

    // Request/response traffic does not pay a new allocation per request.
    let (read_capacity, write_capacity) = buffer_capacities(&dispatcher);
    assert!(
        read_capacity >= LW_BUFFER_SIZE,
        "read buffer: {read_capacity}"
    );
    assert!(
        write_capacity >= HW_BUFFER_SIZE,
        "write buffer: {write_capacity}"
    );
}

#[actix_rt::test]
async fn small_payload_chunk_does_not_keep_the_read_buffer() {
    let mut io = TestBuffer::new(
        "GET /ws HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
    );
    let request_payload = Rc::new(std::cell::RefCell::new(None));
    let service_payload = request_payload.clone();
    let chunks = PushedChunks::default();
    let services = HttpFlow::new(
        fn_service(move |mut req: Request| {
            // Without an upgrade service the connection's remaining bytes are the request
            // payload, as for a WebSocket in actix-web.
            *service_payload.borrow_mut() = Some(req.take_payload());
            let body = pushed_body(chunks.clone());
            async move { Ok::<_, Error>(Response::ok().set_body(body)) }
        }),
        ExpectHandler,
        None::<UpgradeHandler>,
    );
    let dispatcher = Dispatcher::new(
        io.clone(),
        services,
        ServiceConfig::default(),
        None,
        OnConnectData::default(),
    );
    let mut dispatcher = pin!(dispatcher);
    let mut cx = Context::from_waker(futures_util::task::noop_waker_ref());

    assert!(dispatcher.as_mut().poll(&mut cx).is_pending());
    io.extend_read_buf("small frame");
    assert!(dispatcher.as_mut().poll(&mut cx).is_pending());
    assert_eq!(buffer_capacities(&dispatcher), (0, 0));

    let mut payload = request_payload.borrow_mut().take().unwrap();
    let Poll::Ready(Some(Ok(chunk))) = Pin::new(&mut payload).poll_next(&mut cx) else {
        panic!("no payload chunk")
    };
    assert_eq!(&chunk[..], b"small frame");

    // A consumer that takes the chunk over as its own buffer (as actix-ws does) must get a small
    // allocation, not the dispatcher's whole read buffer.
    let taken_over = BytesMut::from(chunk);
    assert_eq!(taken_over.capacity(), "small frame".len());
}

#[test]
fn only_small_payload_chunks_are_copied() {
    let read_buf = bytes::Bytes::from(vec![b'x'; HW_BUFFER_SIZE]);

    let small = detach_small_chunk(read_buf.slice(..PAYLOAD_CHUNK_COPY_LIMIT - 1));
    assert_ne!(small.as_ptr(), read_buf.as_ptr());
    assert_eq!(&small[..], &read_buf[..PAYLOAD_CHUNK_COPY_LIMIT - 1]);

    let large = detach_small_chunk(read_buf.slice(..PAYLOAD_CHUNK_COPY_LIMIT));
    assert_eq!(large.as_ptr(), read_buf.as_ptr());
}
