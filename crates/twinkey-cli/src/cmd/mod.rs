//! One module per subcommand.

pub mod demo;
pub mod emulate;
pub mod keys;
pub mod oci;
pub mod relay;
pub mod rotate;
pub mod sign;
pub mod token;
