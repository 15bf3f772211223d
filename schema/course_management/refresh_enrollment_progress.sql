DECLARE
  v_user_id uuid;
  v_course_id uuid;
  v_required integer;
  v_completed integer;
  v_percent numeric(5,2);
BEGIN
  IF TG_OP = 'DELETE' THEN
    v_user_id := OLD.user_id;
    v_course_id := OLD.course_id;
  ELSE
    v_user_id := NEW.user_id;
    v_course_id := NEW.course_id;
  END IF;

  SELECT count(*)
    INTO v_required
    FROM course_management.lessons AS l
   WHERE l.course_id = v_course_id
     AND l.is_required;

  SELECT count(*)
    INTO v_completed
    FROM course_management.lesson_progress AS lp
    JOIN course_management.lessons AS l ON l.id = lp.lesson_id
   WHERE lp.user_id = v_user_id
     AND lp.course_id = v_course_id
     AND lp.status = 'completed'
     AND l.is_required;

  v_percent := CASE WHEN v_required = 0 THEN 0
                    ELSE least(100, round(100.0 * v_completed / v_required, 2)) END;

  -- Dropped and expired enrolments keep the progress they had when they ended.
  UPDATE course_management.enrollments AS e
     SET progress_percent = v_percent,
         last_activity_at = now(),
         started_at = COALESCE(e.started_at, now()),
         status = CASE WHEN e.status = 'active' AND v_required > 0 AND v_completed >= v_required
                       THEN 'completed'::course_management.enrollment_status
                       ELSE e.status END
   WHERE e.user_id = v_user_id
     AND e.course_id = v_course_id
     AND e.status IN ('active', 'completed');

  RETURN NULL;
END
