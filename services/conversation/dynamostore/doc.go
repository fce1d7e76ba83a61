// Package dynamostore is the conversation.Store on one DynamoDB table, the conversation
// table (PORTICO_CONVERSATION_STORE=dynamodb:<table>), apart from the quota store's table.
//
// # Table
//
// Key schema: partition key "pk" (S), sort key "sk" (S); no index. On-demand billing;
// time-to-live on the attribute "expiresAt" (epoch seconds). CreateTableInput returns the
// definition (the CDK app creates the table in AWS; EnsureTable creates it for tests and
// development).
//
// Every item of a person is under one partition, pk = "u#" + owner (the token subject), so
// that every read names the owner's partition and nothing else:
//
//	sk = "n"                         the owner's count of conversations ("conversations", N)
//	                                 and user name ("name", S, for the administrators'
//	                                 counts: set when a conversation is created)
//	sk = "c#" + conversation id      a conversation's summary: title, pinned, created and
//	                                 updated (Unix nanoseconds), model, count, bytes, a
//	                                 version "v" for optimistic concurrency, expiresAt
//	sk = "m#" + conversation id + "#" + message id
//	                                 a message: "b" its encoded body (protobuf), "bytes", "t"
//	                                 its lower-cased text for search (at most SearchTextBytes),
//	                                 expiresAt
//
// Messages form a chain by their parent ids; Get returns the chain that ends at the
// conversation's newest message, so a message a reply replaced is never shown even while its
// deletion is pending.
//
// # Reads and their bounds
//
// List reads the owner's summaries (one Query on "c#"; a few hundred bytes each, at most
// PORTICO_CONVERSATIONS_PER_USER of them, so a bounded number of pages), sorts them in memory
// and pages by position. Get reads one summary and one conversation's messages.
//
// Search reads only the owner's partition: the summaries (titles) and the owner's messages,
// newest conversations first (conversation ids begin with their creation time), with a
// filter on the lower-cased text that DynamoDB applies before returning items. It reads at
// most SearchReadPages pages (1 MB each, so at most 4 MB of the owner's messages per search);
// older messages beyond that bound are not searched. Matches are then checked word by word
// (each term a word prefix) and ranked by the number of matching words.
//
// # The administrators' counts
//
// CountOwners (AdminService.ListConversationCounts, for usage administrators) is the one read
// that is not of one owner's partition. It is a paged Scan whose filter keeps only the owners'
// count items (sk = "n") and whose projection keeps only their key and the owner's name, then, per owner found, a
// Query of that owner's summaries projected to "count", "bytes" and "expiresAt": the counts
// are exact (a summary past its expiry is left out, as every read does, although the count
// item still counts it until DynamoDB deletes it) and no title or content is read. A Scan
// consumes read capacity for every item it looks at, messages included (a filter does not
// make it cheaper); that is acceptable for an administrator's occasional report, and each
// call reads at most CountScanPages pages of 1 MB before it returns with a page token. The
// process that serves it needs dynamodb:Scan and dynamodb:Query on the table.
//
// # Retention
//
// With a retention period R, every write sets the summary's expiresAt to now + R. Messages
// are written with expiresAt = now + 1.5 R and refreshed (to now + 1.5 R) by a later turn
// once less than R is left, so a message never expires before its conversation and outlives
// it by at most R/2, unseen (reads ignore messages whose summary is gone). Reads treat a
// summary past its expiresAt as gone (DynamoDB deletes expired items within days, not at
// once).
package dynamostore
