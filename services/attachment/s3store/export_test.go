package s3store

// SetPageSize makes DeleteConversation list n keys per page, so a test sees it page.
func SetPageSize(s *Store, n int32) { s.pageSize = n }
