DECLARE
  v_current_length integer;
BEGIN
  -- One statement, so two concurrent awards for the same user cannot both start a streak.
  -- In DO UPDATE every s.* is the row before the update.
  INSERT INTO gamification.streaks AS s
         (organization_id, user_id, current_length, longest_length, started_on, last_activity_date, updated_at)
  VALUES (p_organization_id, p_user_id, 1, 1, p_activity_date, p_activity_date, now())
  ON CONFLICT (user_id) DO UPDATE
     SET current_length     = CASE
                                WHEN p_activity_date = s.last_activity_date + 1 THEN s.current_length + 1
                                WHEN p_activity_date <= s.last_activity_date THEN s.current_length
                                ELSE 1
                              END,
         longest_length     = greatest(s.longest_length,
                                       CASE
                                         WHEN p_activity_date = s.last_activity_date + 1 THEN s.current_length + 1
                                         ELSE 1
                                       END),
         started_on         = CASE
                                WHEN p_activity_date <= s.last_activity_date + 1 THEN s.started_on
                                ELSE p_activity_date
                              END,
         last_activity_date = greatest(s.last_activity_date, p_activity_date),
         updated_at         = now()
  RETURNING s.current_length INTO v_current_length;
  RETURN v_current_length;
END
