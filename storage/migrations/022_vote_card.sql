-- (022: the next number free on main when this was written; 019–021 are other branches'.)
-- The card of a proposal that goes straight to the vote (process `majority`) is edited when
-- the vote closes, to show the Beschluss: where it was posted is kept with the vote, as a
-- round keeps its card.
ALTER TABLE votes ADD COLUMN card_chat_id INTEGER;
ALTER TABLE votes ADD COLUMN card_message_id INTEGER;
