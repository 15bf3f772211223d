DECLARE
  v_rule_id            uuid;
  v_points             integer;
  v_max_awards_per_day integer;
  v_is_active          boolean;
  v_awarded_today      integer;
  v_transaction_id     bigint;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM gamification.event_types AS e WHERE e.code = p_event_type) THEN
    RAISE EXCEPTION USING
      ERRCODE = 'invalid_parameter_value',
      MESSAGE = format('unknown gamification event type %L', p_event_type),
      HINT = 'Event types are listed in gamification.event_types.';
  END IF;

  -- The organization's own rule replaces the platform default entirely, including is_active.
  SELECT r.id, r.points, r.max_awards_per_day, r.is_active
    INTO v_rule_id, v_points, v_max_awards_per_day, v_is_active
    FROM gamification.point_rules AS r
   WHERE r.organization_id = p_organization_id
     AND r.event_type = p_event_type;
  IF NOT FOUND THEN
    SELECT NULL::uuid, d.points, d.max_awards_per_day, d.is_active
      INTO v_rule_id, v_points, v_max_awards_per_day, v_is_active
      FROM gamification.default_point_rules AS d
     WHERE d.event_type = p_event_type;
  END IF;
  IF NOT coalesce(v_is_active, false) THEN
    RETURN NULL;
  END IF;

  IF v_max_awards_per_day IS NOT NULL THEN
    SELECT count(*) INTO v_awarded_today
      FROM gamification.point_transactions AS t
     WHERE t.user_id = p_user_id
       AND t.event_type = p_event_type
       AND t.points > 0
       AND t.occurred_at >= gamification.period_start('daily', now());
    IF v_awarded_today >= v_max_awards_per_day THEN
      RETURN NULL;
    END IF;
  END IF;

  INSERT INTO gamification.point_transactions
         (organization_id, user_id, event_type, points, point_rule_id, course_id, source_type, source_id)
  VALUES (p_organization_id, p_user_id, p_event_type, v_points, v_rule_id,
          gamification.source_course_id(p_source_type, p_source_id), p_source_type, p_source_id)
  ON CONFLICT (user_id, event_type, source_type, source_id) DO NOTHING
  RETURNING id INTO v_transaction_id;
  RETURN v_transaction_id;
END
