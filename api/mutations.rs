//! Vercel function: see `enghub::functions::Function::Mutations`.

#[tokio::main]
async fn main() -> Result<(), vercel_runtime::Error> {
    enghub::functions::serve(enghub::functions::Function::Mutations).await
}
