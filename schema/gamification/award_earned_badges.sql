DECLARE
  v_total_points   bigint;
  v_current_level  smallint;
  v_longest_streak integer;
  v_awarded        integer;
BEGIN
  SELECT b.total_points, b.current_level INTO v_total_points, v_current_level
    FROM gamification.user_point_balances AS b
   WHERE b.user_id = p_user_id;
  SELECT s.longest_length INTO v_longest_streak
    FROM gamification.streaks AS s
   WHERE s.user_id = p_user_id;

  INSERT INTO gamification.user_badges (organization_id, user_id, badge_id, point_transaction_id)
  SELECT p_organization_id, p_user_id, bd.id, p_point_transaction_id
    FROM gamification.badges AS bd
    LEFT JOIN gamification.user_activity_counts AS c
      ON c.user_id = p_user_id AND c.event_type = bd.criteria_event_type
   WHERE bd.is_active
     AND CASE bd.criteria_type
           WHEN 'points_total'  THEN coalesce(v_total_points, 0) >= bd.threshold
           WHEN 'event_count'   THEN coalesce(c.event_count, 0) >= bd.threshold
           WHEN 'streak_days'   THEN coalesce(v_longest_streak, 0) >= bd.threshold
           WHEN 'level_reached' THEN coalesce(v_current_level, 0) >= bd.threshold
         END
  ON CONFLICT (user_id, badge_id) DO NOTHING;
  GET DIAGNOSTICS v_awarded = ROW_COUNT;
  RETURN v_awarded;
END
