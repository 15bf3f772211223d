-- Recomputes whole days rather than adding to them: replaying the same range twice gives the same
-- result, and late-arriving events are picked up by refreshing their day again. Runs as the caller,
-- so for app_user row-level security confines both the events read and the roll-up rows replaced
-- to the current organization; a role that bypasses RLS refreshes every organization at once.
DECLARE
  v_rows integer;
BEGIN
  IF p_from IS NULL OR p_to IS NULL OR p_from > p_to THEN
    RAISE EXCEPTION USING
      ERRCODE = 'invalid_parameter_value',
      MESSAGE = format('invalid day range %s .. %s', coalesce(p_from::text, 'NULL'), coalesce(p_to::text, 'NULL'));
  END IF;

  DELETE FROM analytics.daily_activity
   WHERE activity_date BETWEEN p_from AND p_to;

  INSERT INTO analytics.daily_activity
         (organization_id, user_id, activity_date, event_count, courses_touched, lessons_completed,
          quizzes_passed, posts_created, courses_completed, first_event_at, last_event_at)
  SELECT e.organization_id,
         e.user_id,
         (e.occurred_at AT TIME ZONE 'UTC')::date,
         count(*),
         count(DISTINCT e.course_id),
         count(*) FILTER (WHERE e.event_type = 'lesson_completed'),
         count(*) FILTER (WHERE e.event_type = 'quiz_passed'),
         count(*) FILTER (WHERE e.event_type = 'forum_post_created'),
         count(*) FILTER (WHERE e.event_type = 'course_completed'),
         min(e.occurred_at),
         max(e.occurred_at)
    FROM analytics.learning_events AS e
   WHERE e.occurred_at >= (p_from::timestamp AT TIME ZONE 'UTC')
     AND e.occurred_at <  ((p_to + 1)::timestamp AT TIME ZONE 'UTC')
   GROUP BY e.organization_id, e.user_id, (e.occurred_at AT TIME ZONE 'UTC')::date;
  GET DIAGNOSTICS v_rows = ROW_COUNT;

  RETURN v_rows;
END
