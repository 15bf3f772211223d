DECLARE
  v_achievement    record;
  v_value          bigint;
  v_completed_at   timestamptz;
  v_bonus_id       bigint;
  v_unlocked       integer := 0;
BEGIN
  FOR v_achievement IN
    SELECT a.id, a.name, a.criteria_type, a.criteria_event_type, a.course_id, a.threshold, a.bonus_points
      FROM gamification.achievements AS a
     WHERE a.organization_id = p_organization_id
       AND a.is_active
       AND NOT EXISTS (
             SELECT 1 FROM gamification.user_achievements AS ua
              WHERE ua.user_id = p_user_id
                AND ua.achievement_id = a.id
                AND ua.completed_at IS NOT NULL)
  LOOP
    v_value := CASE v_achievement.criteria_type
      WHEN 'points_total' THEN
        (SELECT b.total_points FROM gamification.user_point_balances AS b WHERE b.user_id = p_user_id)
      WHEN 'level_reached' THEN
        (SELECT b.current_level FROM gamification.user_point_balances AS b WHERE b.user_id = p_user_id)
      WHEN 'streak_days' THEN
        (SELECT s.longest_length FROM gamification.streaks AS s WHERE s.user_id = p_user_id)
      WHEN 'event_count' THEN
        (SELECT count(*)
           FROM gamification.point_transactions AS t
          WHERE t.user_id = p_user_id
            AND t.event_type = v_achievement.criteria_event_type
            AND t.points > 0
            AND (v_achievement.course_id IS NULL OR t.course_id = v_achievement.course_id))
    END;
    CONTINUE WHEN coalesce(v_value, 0) = 0;

    -- The WHERE makes this a no-op for an achievement a nested call (the bonus below goes through
    -- the ledger, whose trigger calls this function again) has unlocked in the meantime.
    INSERT INTO gamification.user_achievements AS ua
           (organization_id, user_id, achievement_id, progress, completed_at)
    VALUES (p_organization_id, p_user_id, v_achievement.id,
            least(v_value, v_achievement.threshold),
            CASE WHEN v_value >= v_achievement.threshold THEN now() END)
    ON CONFLICT (user_id, achievement_id) DO UPDATE
       SET progress     = EXCLUDED.progress,
           completed_at = EXCLUDED.completed_at,
           updated_at   = now()
     WHERE ua.completed_at IS NULL
    RETURNING ua.completed_at INTO v_completed_at;

    IF v_completed_at IS NOT NULL THEN
      v_unlocked := v_unlocked + 1;
      IF v_achievement.bonus_points > 0 THEN
        INSERT INTO gamification.point_transactions
               (organization_id, user_id, event_type, points, course_id, source_type, source_id, reason)
        VALUES (p_organization_id, p_user_id, 'achievement_unlocked', v_achievement.bonus_points,
                v_achievement.course_id, 'achievement', v_achievement.id,
                'Achievement unlocked: ' || v_achievement.name)
        ON CONFLICT (user_id, event_type, source_type, source_id) DO NOTHING
        RETURNING id INTO v_bonus_id;
        UPDATE gamification.user_achievements
           SET bonus_transaction_id = v_bonus_id
         WHERE user_id = p_user_id
           AND achievement_id = v_achievement.id
           AND v_bonus_id IS NOT NULL;
      END IF;
    END IF;
  END LOOP;
  RETURN v_unlocked;
END
