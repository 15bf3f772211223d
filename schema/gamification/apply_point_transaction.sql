-- Runs as the owner with search_path pinned to pg_catalog: every name below is qualified.
DECLARE
  v_extends_streak boolean;
BEGIN
  -- UPDATE first: INSERT ... ON CONFLICT would check the proposed row (a deduction alone is
  -- negative) against the balance check before finding the conflict.
  UPDATE gamification.user_point_balances AS b
     SET total_points        = b.total_points + NEW.points,
         current_level       = gamification.level_for_points(b.total_points + NEW.points),
         level_reached_at    = CASE
                                 WHEN gamification.level_for_points(b.total_points + NEW.points) = b.current_level
                                 THEN b.level_reached_at
                                 ELSE now()
                               END,
         last_transaction_id = NEW.id,
         updated_at          = now()
   WHERE b.user_id = NEW.user_id;
  IF NOT FOUND THEN
    -- The user's first transaction; ON CONFLICT covers a concurrent first transaction.
    INSERT INTO gamification.user_point_balances AS b
           (user_id, organization_id, total_points, current_level, level_reached_at, last_transaction_id, updated_at)
    VALUES (NEW.user_id, NEW.organization_id, NEW.points,
            gamification.level_for_points(NEW.points), now(), NEW.id, now())
    ON CONFLICT (user_id) DO UPDATE
       SET total_points        = b.total_points + EXCLUDED.total_points,
           current_level       = gamification.level_for_points(b.total_points + EXCLUDED.total_points),
           last_transaction_id = EXCLUDED.last_transaction_id,
           updated_at          = EXCLUDED.updated_at;
  END IF;

  -- Deductions are corrections, not activity: they neither count as events nor extend streaks.
  IF NEW.points > 0 THEN
    INSERT INTO gamification.user_activity_counts AS c
           (user_id, event_type, organization_id, event_count, first_occurred_at, last_occurred_at)
    VALUES (NEW.user_id, NEW.event_type, NEW.organization_id, 1, NEW.occurred_at, NEW.occurred_at)
    ON CONFLICT (user_id, event_type) DO UPDATE
       SET event_count       = c.event_count + 1,
           first_occurred_at = least(c.first_occurred_at, EXCLUDED.first_occurred_at),
           last_occurred_at  = greatest(c.last_occurred_at, EXCLUDED.last_occurred_at);

    SELECT e.extends_streak INTO v_extends_streak
      FROM gamification.event_types AS e
     WHERE e.code = NEW.event_type;
    IF v_extends_streak THEN
      PERFORM gamification.extend_streak(NEW.organization_id, NEW.user_id,
                                         (NEW.occurred_at AT TIME ZONE 'UTC')::date);
    END IF;
  END IF;

  PERFORM gamification.award_earned_badges(NEW.organization_id, NEW.user_id, NEW.id);
  PERFORM gamification.update_achievement_progress(NEW.organization_id, NEW.user_id);
  RETURN NULL;
END
