DECLARE
  v_course_id uuid;
BEGIN
  CASE p_source_type
    WHEN 'course' THEN
      v_course_id := p_source_id;
    WHEN 'lesson' THEN
      SELECT l.course_id INTO v_course_id
        FROM course_management.lessons AS l
       WHERE l.id = p_source_id;
    WHEN 'quiz' THEN
      SELECT q.course_id INTO v_course_id
        FROM assessment.quizzes AS q
       WHERE q.id = p_source_id;
    WHEN 'forum_post' THEN
      -- Organization-wide forums have no course; their posts count on organization boards only.
      SELECT f.course_id INTO v_course_id
        FROM social.posts AS p
        JOIN social.threads AS t ON t.id = p.thread_id
        JOIN social.forums AS f ON f.id = t.forum_id
       WHERE p.id = p_source_id;
    ELSE
      v_course_id := NULL;
  END CASE;
  RETURN v_course_id;
END
