//! Vercel function: see `enghub::functions::Function::Health`.

#[tokio::main]
async fn main() -> Result<(), vercel_runtime::Error> {
    enghub::functions::serve(enghub::functions::Function::Health).await
}
