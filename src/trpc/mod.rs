//! trpc (skeleton)
