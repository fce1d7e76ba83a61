import { Injectable, inject } from '@angular/core';
import { Client, createClient } from '@connectrpc/connect';
import { ConversationService } from '@gen/portico/conversation/v1/conversation_pb';
import { TRANSPORT } from '../core/transport';

/**
 * The ConversationService client, on the app's one transport. It is kept apart from Api so
 * that its schema loads with the chat, not with the first page.
 */
@Injectable({ providedIn: 'root' })
export class ConversationApi {
  readonly client: Client<typeof ConversationService> = createClient(ConversationService, inject(TRANSPORT));
}
