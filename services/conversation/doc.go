// Package conversation keeps each person's conversations on the server: the domain (ids,
// titles, the history sent to a model, search snippets), the Store interface with its two
// implementations (sqlitestore for one machine, dynamostore in AWS; conversationtest is
// their contract suite), and the portico.conversation.v1.ConversationService handler.
//
// A conversation is private to its owner (the person's token subject): every store method
// takes the owner and acts on that owner's data only, so another person's id is not found,
// exactly like an id that never existed. The one exception is CountOwners, for usage
// administrators (AdminService.ListConversationCounts): numbers per owner (conversations,
// messages, bytes) and the owner's user name, never a title, an id or content. Messages form one chain; answering from an earlier
// message deletes the messages after it. Images are kept in the attachment store
// (services/attachment), under the conversation, and deleted with it.
//
// Conversations are created and continued by the inference service (Converse and
// ConverseStream with a conversation reference); this package's Service lists, reads,
// renames, pins, searches and deletes them.
package conversation
