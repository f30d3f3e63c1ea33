//! Sender authentication (SPF, DKIM, DMARC) and placement.
