"""The Graph API: versioned routes, fields, cursors and errors, and the read path where
policy and ledger meet."""
