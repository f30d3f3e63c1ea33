//! The sweep engine as a library: paired comparisons against independent ones.

mod paired;
