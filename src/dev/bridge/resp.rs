//! A minimal RESP2 connection to Redis and a small pool of them.
//!
//! Every reply is read as a [`Frame`], error replies included, so one failing
//! command in a pipeline or transaction keeps its exact Redis text and does not
//! hide the replies after it.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Mutex;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufStream};
use tokio::net::TcpStream;

/// One RESP2 reply.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Frame {
    Simple(String),
    Error(String),
    Int(i64),
    Bulk(Option<Vec<u8>>),
    Array(Option<Vec<Frame>>),
}

/// A command as Redis receives it: the name and arguments as byte strings.
pub(super) type RawCommand = Vec<Vec<u8>>;

/// Where Redis is and how to log in, from a `redis://[user[:password]@]host[:port][/db]` URL.
#[derive(Clone)]
pub(super) struct RedisTarget {
    addr: String,
    username: Option<String>,
    password: Option<String>,
    db: Option<i64>,
}

impl RedisTarget {
    pub(super) fn parse(redis_url: &str) -> Result<Self, String> {
        let url = url::Url::parse(redis_url).map_err(|err| format!("not a URL: {err}"))?;
        if url.scheme() != "redis" {
            return Err(format!(
                "scheme must be redis:// (TLS is not supported), got {}://",
                url.scheme()
            ));
        }
        let host = url
            .host_str()
            .ok_or_else(|| "the URL has no host".to_owned())?;
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        };
        let username = Some(decode(url.username())).filter(|u| !u.is_empty());
        let password = url.password().map(decode);
        let db = match url.path().trim_matches('/') {
            "" => None,
            db => Some(
                db.parse()
                    .map_err(|_| format!("database number {db:?} is not an integer"))?,
            ),
        };
        Ok(Self {
            addr: format!("{host}:{}", url.port().unwrap_or(6379)),
            username,
            password,
            db,
        })
    }
}

pub(super) struct RespConnection {
    stream: BufStream<TcpStream>,
}

impl RespConnection {
    async fn connect(target: &RedisTarget) -> io::Result<Self> {
        let stream = TcpStream::connect(&target.addr).await?;
        stream.set_nodelay(true)?;
        let mut conn = Self {
            stream: BufStream::new(stream),
        };
        let mut login = Vec::new();
        if let Some(password) = &target.password {
            let mut auth = vec![b"AUTH".to_vec()];
            auth.extend(target.username.iter().map(|u| u.as_bytes().to_vec()));
            auth.push(password.as_bytes().to_vec());
            login.push(auth);
        }
        if let Some(db) = target.db {
            login.push(vec![b"SELECT".to_vec(), db.to_string().into_bytes()]);
        }
        if !login.is_empty() {
            for frame in conn.exchange(&login).await? {
                if let Frame::Error(err) = frame {
                    return Err(io::Error::other(format!("Redis refused the login: {err}")));
                }
            }
        }
        Ok(conn)
    }

    /// Sends all commands in one write and reads one reply per command.
    pub(super) async fn exchange(&mut self, cmds: &[RawCommand]) -> io::Result<Vec<Frame>> {
        let mut buf = Vec::new();
        for cmd in cmds {
            encode(cmd, &mut buf);
        }
        self.stream.write_all(&buf).await?;
        self.stream.flush().await?;
        let mut frames = Vec::with_capacity(cmds.len());
        for _ in cmds {
            frames.push(self.read_frame().await?);
        }
        Ok(frames)
    }

    fn read_frame(&mut self) -> Pin<Box<dyn Future<Output = io::Result<Frame>> + Send + '_>> {
        Box::pin(async move {
            let line = self.read_line().await?;
            let (kind, rest) = line
                .split_first()
                .ok_or_else(|| protocol_error("empty reply line"))?;
            let text = || String::from_utf8_lossy(rest).into_owned();
            match kind {
                b'+' => Ok(Frame::Simple(text())),
                b'-' => Ok(Frame::Error(text())),
                b':' => Ok(Frame::Int(parse_int(rest)?)),
                b'$' => match parse_int(rest)? {
                    -1 => Ok(Frame::Bulk(None)),
                    len if len >= 0 => {
                        let mut data = vec![0; len as usize + 2];
                        self.stream.read_exact(&mut data).await?;
                        if !data.ends_with(b"\r\n") {
                            return Err(protocol_error("bulk string without CRLF"));
                        }
                        data.truncate(len as usize);
                        Ok(Frame::Bulk(Some(data)))
                    }
                    _ => Err(protocol_error("negative bulk length")),
                },
                b'*' => match parse_int(rest)? {
                    -1 => Ok(Frame::Array(None)),
                    len if len >= 0 => {
                        let mut items = Vec::with_capacity(len as usize);
                        for _ in 0..len {
                            items.push(self.read_frame().await?);
                        }
                        Ok(Frame::Array(Some(items)))
                    }
                    _ => Err(protocol_error("negative array length")),
                },
                _ => Err(protocol_error("unknown reply type")),
            }
        })
    }

    /// One line without its CRLF.
    async fn read_line(&mut self) -> io::Result<Vec<u8>> {
        let mut line = Vec::new();
        if self.stream.read_until(b'\n', &mut line).await? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "Redis closed the connection",
            ));
        }
        if !line.ends_with(b"\r\n") {
            return Err(protocol_error("reply line without CRLF"));
        }
        line.truncate(line.len() - 2);
        Ok(line)
    }
}

fn encode(cmd: &RawCommand, buf: &mut Vec<u8>) {
    buf.extend_from_slice(format!("*{}\r\n", cmd.len()).as_bytes());
    for arg in cmd {
        buf.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        buf.extend_from_slice(arg);
        buf.extend_from_slice(b"\r\n");
    }
}

fn parse_int(digits: &[u8]) -> io::Result<i64> {
    std::str::from_utf8(digits)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| protocol_error("invalid integer"))
}

fn protocol_error(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("RESP protocol error: {what}"),
    )
}

/// Idle connections for reuse. A connection is returned only after a complete
/// exchange; one that failed or whose request was cancelled is dropped, so a
/// half-read reply can never reach the next request.
pub(super) struct RedisPool {
    target: RedisTarget,
    idle: Mutex<Vec<RespConnection>>,
}

const MAX_IDLE: usize = 16;

impl RedisPool {
    pub(super) fn new(target: RedisTarget) -> Self {
        Self {
            target,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Runs `cmds` on one connection (MULTI..EXEC needs that) and reads all replies.
    pub(super) async fn exchange(&self, cmds: &[RawCommand]) -> io::Result<Vec<Frame>> {
        let idle = self.idle.lock().expect("pool lock").pop();
        let mut conn = match idle {
            Some(conn) => conn,
            None => RespConnection::connect(&self.target).await?,
        };
        let frames = conn.exchange(cmds).await?;
        let mut idle = self.idle.lock().expect("pool lock");
        if idle.len() < MAX_IDLE {
            idle.push(conn);
        }
        Ok(frames)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_encoded_as_arrays_of_bulk_strings() {
        let mut buf = Vec::new();
        encode(
            &vec![b"SET".to_vec(), b"k".to_vec(), b"".to_vec()],
            &mut buf,
        );
        assert_eq!(buf, b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n");
    }

    #[test]
    fn redis_urls_give_address_login_and_database() {
        let target = RedisTarget::parse("redis://user:p%40ss@db.local:6380/2").unwrap();
        assert_eq!(target.addr, "db.local:6380");
        assert_eq!(target.username.as_deref(), Some("user"));
        assert_eq!(target.password.as_deref(), Some("p@ss"));
        assert_eq!(target.db, Some(2));

        let target = RedisTarget::parse("redis://127.0.0.1").unwrap();
        assert_eq!(target.addr, "127.0.0.1:6379");
        assert!(target.password.is_none() && target.db.is_none());
    }

    #[test]
    fn tls_urls_are_refused() {
        assert!(RedisTarget::parse("rediss://127.0.0.1:6379").is_err());
    }
}
