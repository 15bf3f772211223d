DECLARE
  v_lessons_left integer;
BEGIN
  -- status may be an enum or text in course_management; compare as text either way.
  IF NEW.status::text <> 'completed' THEN
    RETURN NULL;
  END IF;
  IF TG_OP = 'UPDATE' THEN
    IF OLD.status::text = 'completed' THEN
      RETURN NULL;  -- already completed before this update: paid then
    END IF;
  END IF;

  PERFORM gamification.award_points(NEW.organization_id, NEW.user_id, 'lesson_completed', 'lesson', NEW.lesson_id);

  SELECT count(*) INTO v_lessons_left
    FROM course_management.lessons AS l
   WHERE l.course_id = NEW.course_id
     AND l.is_required
     AND NOT EXISTS (
           SELECT 1
             FROM course_management.lesson_progress AS p
            WHERE p.user_id = NEW.user_id
              AND p.lesson_id = l.id
              AND p.status::text = 'completed');
  IF v_lessons_left = 0 THEN
    -- award_points pays this once per user and course (source 'course'), even if a lesson is
    -- later reopened and completed again.
    PERFORM gamification.award_points(NEW.organization_id, NEW.user_id, 'course_completed', 'course', NEW.course_id);
  END IF;
  RETURN NULL;
END
