-- Replies (received messages) of the runner's scope with the intent decided when each was stored.
select
    m.id as message_id,
    m.workspace_id,
    m.lead_id,
    m.sent_at,
    m.intent,
    m.intent_confidence,
    m.intent_source,
    m.intent_classified_at
from {{ source('coldcopy', 'email_messages') }} as m
where m.direction = 'received' and {{ in_workspace_scope('m.workspace_id') }}
