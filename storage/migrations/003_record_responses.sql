-- Every response and ballot goes into the record by trigger, in the same statement that
-- stores it: a press is one atomic write, and the record cannot miss one.

CREATE TRIGGER responses_recorded AFTER INSERT ON responses
BEGIN
    INSERT INTO events (network_id, team_id, at, actor_id, kind, data)
    SELECT p.network_id, p.team_id, NEW.at, NEW.person_id, 'round.response',
           json_object('choice', NEW.choice, 'round', NEW.round_id)
    FROM rounds r JOIN proposals p ON p.id = r.proposal_id WHERE r.id = NEW.round_id;
END;

CREATE TRIGGER responses_changed AFTER UPDATE OF choice, update_id ON responses
BEGIN
    INSERT INTO events (network_id, team_id, at, actor_id, kind, data)
    SELECT p.network_id, p.team_id, NEW.at, NEW.person_id, 'round.response',
           json_object('choice', NEW.choice, 'round', NEW.round_id)
    FROM rounds r JOIN proposals p ON p.id = r.proposal_id WHERE r.id = NEW.round_id;
END;

CREATE TRIGGER ballots_recorded AFTER INSERT ON ballots
BEGIN
    INSERT INTO events (network_id, team_id, at, actor_id, kind, data)
    SELECT p.network_id, p.team_id, NEW.at, NEW.person_id, 'vote.ballot',
           json_object('choice', NEW.choice, 'vote', NEW.vote_id)
    FROM votes v JOIN proposals p ON p.id = v.proposal_id WHERE v.id = NEW.vote_id;
END;

CREATE TRIGGER ballots_changed AFTER UPDATE OF choice, update_id ON ballots
BEGIN
    INSERT INTO events (network_id, team_id, at, actor_id, kind, data)
    SELECT p.network_id, p.team_id, NEW.at, NEW.person_id, 'vote.ballot',
           json_object('choice', NEW.choice, 'vote', NEW.vote_id)
    FROM votes v JOIN proposals p ON p.id = v.proposal_id WHERE v.id = NEW.vote_id;
END;
