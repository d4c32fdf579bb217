//! tRPC over HTTP: the wire format, errors, zod-compatible input validation
//! and the procedure registry. Knows nothing of Postgres or Redis commands.

pub mod error;
pub mod input;
pub mod registry;
pub mod types;
pub mod wire;
pub mod zod;

pub use error::{ApiError, TrpcCode, TrpcError};
pub use input::{FromInput, Input};
pub use registry::{Access, Kind, Mutated, Planned, Procedure, Registry};
