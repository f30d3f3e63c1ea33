//! Catalogue of reply codes (filled in below).
